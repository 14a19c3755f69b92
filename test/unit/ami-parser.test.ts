import { describe, expect, it } from 'vitest';
import { AmiParser, AmiProtocolError, type AmiFrame } from '../../agent/ami/parser.ts';
import { loadTranscript, transcriptNames } from '../support/transcript.ts';

const messages = (frames: AmiFrame[]) => frames.flatMap((f) => (f.kind === 'message' ? [f.message] : []));

/** Counts blank-line-terminated blocks the simple way, as an independent check of the parser. */
function countBlocks(text: string): number {
  const lines = text.split('\r\n');
  let n = 0;
  let inBlock = false;
  for (const l of lines.slice(1)) {
    if (l === '') {
      if (inBlock) n++;
      inBlock = false;
    } else inBlock = true;
  }
  return n;
}

describe('AmiParser on the real transcripts', () => {
  for (const driver of ['chan_sip', 'pjsip'] as const) {
    for (const name of transcriptNames(driver)) {
      it(`${driver}/${name}: banner then every message`, () => {
        const t = loadTranscript(driver, name);
        const frames = new AmiParser({ expectBanner: true }).push(t.server);
        expect(frames[0]).toMatchObject({ kind: 'banner', version: '9.0.0' });
        const msgs = messages(frames);
        expect(msgs.length).toBe(countBlocks(t.server.toString('utf8')));
        for (const m of msgs) expect(m.has('Response') || m.has('Event')).toBe(true);
      });
    }
  }

  it('gives the same messages however the bytes are split (every split point of a large list)', () => {
    const t = loadTranscript('chan_sip', '06_sippeers_sipshowpeer.txt');
    const whole = messages(new AmiParser({ expectBanner: true }).push(t.server)).map((m) => m.toJSON());
    for (let cut = 1; cut < t.server.length; cut++) {
      const p = new AmiParser({ expectBanner: true });
      const frames = [...p.push(t.server.subarray(0, cut)), ...p.push(t.server.subarray(cut))];
      expect(messages(frames).map((m) => m.toJSON())).toEqual(whole);
    }
  });

  it('survives one byte at a time', () => {
    const t = loadTranscript('pjsip', '24_queue_answered.txt');
    const whole = messages(new AmiParser({ expectBanner: true }).push(t.server)).map((m) => m.toJSON());
    const p = new AmiParser({ expectBanner: true });
    const frames: AmiFrame[] = [];
    for (let i = 0; i < t.server.length; i++) p.feed(t.server.subarray(i, i + 1), frames);
    expect(messages(frames).map((m) => m.toJSON())).toEqual(whole);
  });
});

describe('AmiParser details', () => {
  it('keeps values that contain ": " whole and empty values as ""', () => {
    const [m] = messages(new AmiParser().push('Event: X\r\nData: a: b: c\r\nAccountCode: \r\n\r\n'));
    expect(m?.get('Data')).toBe('a: b: c');
    expect(m?.get('AccountCode')).toBe('');
  });

  it('keeps repeated headers in order (UserEvent with a second CallerIDNum)', () => {
    const t = loadTranscript('chan_sip', '28_blacklist_block.txt');
    const ue = messages(new AmiParser({ expectBanner: true }).push(t.server)).find((m) => m.get('UserEvent') === 'Blacklisted');
    expect(ue?.all('CallerIDNum')).toEqual(['806', '806']);
    expect(ue?.get('Reason')).toBe('abusive');
  });

  it('returns Command output as Output lines with trailing spaces kept (Asterisk 20 format)', () => {
    const t = loadTranscript('chan_sip', '16_command_action.txt');
    const msgs = messages(new AmiParser({ expectBanner: true }).push(t.server));
    const peers = msgs.find((m) => m.actionId === 'command-3');
    expect(peers?.all('Output')[0]).toMatch(/^Name\/username\s+Host.*Description\s+$/);
    expect(peers?.all('Output').length).toBeGreaterThan(10);
  });

  it('reads the old `Response: Follows` Command body up to --END COMMAND--, blank lines and colons included', () => {
    const wire =
      'Response: Follows\r\nPrivilege: Command\r\nActionID: c-1\r\n' +
      '/blacklist/123456                                 : 1\r\n\r\nsecond: part\r\n' +
      '2 results found.\r\n--END COMMAND--\r\n\r\n' +
      'Response: Follows\r\nPrivilege: Command\r\nActionID: c-2\r\nlast line without newline--END COMMAND--\r\n\r\n' +
      'Event: After\r\n\r\n';
    const msgs = messages(new AmiParser().push(wire));
    expect(msgs.map((m) => m.actionId ?? m.event)).toEqual(['c-1', 'c-2', 'After']);
    expect(msgs[0]?.all('Output')).toEqual(['/blacklist/123456                                 : 1', '', 'second: part', '2 results found.']);
    expect(msgs[1]?.all('Output')).toEqual(['last line without newline']);
  });

  it('decodes UTF-8 split inside a character (Chinese caller name)', () => {
    const bytes = Buffer.from('Event: Newchannel\r\nCallerIDName: 张三客服\r\n\r\n', 'utf8');
    const at = bytes.indexOf(Buffer.from('张', 'utf8')) + 1; // inside the 3-byte sequence
    const p = new AmiParser();
    const frames = [...p.push(bytes.subarray(0, at)), ...p.push(bytes.subarray(at))];
    expect(messages(frames)[0]?.get('CallerIDName')).toBe('张三客服');
  });

  it('skips stray blank lines between messages', () => {
    const msgs = messages(new AmiParser().push('\r\n\r\nResponse: Success\r\n\r\n\r\nEvent: X\r\n\r\n'));
    expect(msgs.length).toBe(2);
  });

  it('refuses a line that never ends instead of growing without bound', () => {
    const p = new AmiParser({ maxLineBytes: 1024 });
    expect(() => p.push('Event: ' + 'x'.repeat(2000))).toThrow(AmiProtocolError);
  });
});
