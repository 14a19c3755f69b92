import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../agent/config.ts';
import { ToolbarTranslator } from '../../agent/events/toolbar.ts';
import { createLanApp } from '../../agent/lan-app.ts';
import { ToolbarFeed } from '../../shared/toolbar/feed.ts';
import { signToolbarToken, verifyToolbarToken } from '../../shared/toolbar/token.ts';
import { recordedEvents, recordedMessages } from '../support/ami-events.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { RecordingDevice } from '../support/rest-harness.ts';

const MAC = '68:69:2e:03:8b:3e';
const KEY = new Uint8Array(32).fill(7);
const NOW = Date.UTC(2026, 10, 8, 10, 0, 0);

describe('AMI -> toolbar events, from the recordings', () => {
  for (const driver of ['chan_sip', 'pjsip'] as const) {
    it(`a queue call rings each member once, naming the queue, the caller and the number dialed (${driver})`, () => {
      const t = new ToolbarTranslator();
      const out = recordedMessages(driver, '24_queue_answered.txt').flatMap((m) => t.translate(m));
      const linkedid = recordedEvents(driver, '24_queue_answered.txt', 'AgentCalled')[0]!.get('Linkedid');
      const rings = out.filter((e) => e.type === 'ring');
      expect(rings).toEqual([
        { type: 'ring', ext: '800', callId: linkedid, caller: '806', called: '630', queue: '630' },
        { type: 'ring', ext: '801', callId: linkedid, caller: '806', called: '630', queue: '630' },
      ]);
    });

    it(`pauses and queue log in/out carry the member's extension and the reason (${driver})`, () => {
      const t = new ToolbarTranslator();
      const out = recordedMessages(driver, '09_queue_member_mgmt.txt').flatMap((m) => t.translate(m));
      expect(out.find((e) => e.type === 'pause' && e.paused)).toMatchObject({ ext: '800', queue: '630', reason: 'lunch' });
      expect(out.some((e) => e.type === 'pause' && !e.paused && e.ext === '800')).toBe(true);
      expect(out.filter((e) => e.type === 'member').map((e) => e.type === 'member' && e.loggedIn)).toEqual([true, false]);
    });
  }

  it('a direct call rings the called extension; the originated first leg of a click-to-call rings nobody', () => {
    const t = new ToolbarTranslator();
    const direct = recordedMessages('chan_sip', '20_call_answered_hangup.txt').flatMap((m) => t.translate(m));
    expect(direct.filter((e) => e.type === 'ring')).toEqual([{ type: 'ring', ext: '802', callId: '1795673818.14', caller: '801', called: '802', queue: '' }]);
    // Originate SIP/805 -> internal,802: 805's phone rings first (no calling channel), then 802 rings.
    const click = recordedMessages('chan_sip', '32_click_to_call_mixmonitor.txt').flatMap((m) => t.translate(m));
    expect(click.filter((e) => e.type === 'ring').map((e) => e.ext)).toEqual(['802']);
  });
});

describe('toolbar tokens', () => {
  it('verify for their device until they expire; a changed byte or another device is refused', async () => {
    const token = await signToolbarToken(KEY, { mac: MAC, ext: '801', supervisor: false, exp: NOW / 1000 + 60 });
    await expect(verifyToolbarToken(KEY, token, MAC, NOW)).resolves.toEqual({ mac: MAC, ext: '801', supervisor: false, exp: NOW / 1000 + 60 });
    await expect(verifyToolbarToken(KEY, token, MAC, NOW + 61_000)).rejects.toThrow(/expired/);
    await expect(verifyToolbarToken(KEY, token, '68:69:2e:03:8b:3f', NOW)).rejects.toThrow(/another device/);
    await expect(verifyToolbarToken(new Uint8Array(32), token, MAC, NOW)).rejects.toMatchObject({ status: 401 });
    // Claims for 802 under the 801 token's signature.
    const [, , sig] = token.split('.');
    const forged = await signToolbarToken(KEY, { mac: MAC, ext: '802', supervisor: true, exp: NOW / 1000 + 60 });
    const [p, body] = forged.split('.');
    await expect(verifyToolbarToken(KEY, `${p}.${body}.${sig}`, MAC, NOW)).rejects.toMatchObject({ status: 401 });
  });
});

describe('the LAN API with a toolbar token', () => {
  const setup = () => {
    const clock = new ManualClock(NOW);
    const device = new RecordingDevice();
    const feed = new ToolbarFeed({ clock, popUrl: () => null });
    const config = parseConfig(`[general]\nWEBKEY=secret-key\n[ami]\nusername=u\nsecret=s\n`);
    const app = createLanApp({ config, device, now: () => clock.now(), timeZone: 'UTC', log: () => undefined, toolbar: { mac: MAC, key: KEY, feed } });
    const post = (path: string, form: Record<string, string>, authorization?: string) =>
      app.request(path, { method: 'POST', body: new URLSearchParams(form), headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization ? { authorization } : {}) } });
    return { device, app, post };
  };

  it('issues tokens only with the WEBKEY', async () => {
    const { post } = setup();
    expect((await post('/coocenter-api/toolbar/token', { extension: '801' })).status).toBe(401);
  });

  it('acts for its own extension only; listening in needs the supervisor flag', async () => {
    const { device, post } = setup();
    const token = await signToolbarToken(KEY, { mac: MAC, ext: '801', supervisor: false, exp: NOW / 1000 + 3600 });
    const bearer = `Bearer ${token}`;
    const denied = await post('/coocenter-api/extensions/hangup', { extension: '802' }, bearer);
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { message: string }).message).toContain('801');
    expect((await post('/coocenter-api/queues/agent-pause', { queue: '630', member: '802', state: 'on' }, bearer)).status).toBe(403);
    expect((await post('/coocenter-api/blacklist/create', { number: '123' }, bearer)).status).toBe(403);
    expect((await post('/coocenter-api/extensions/extenSpy', { src: '801', dst: '802' }, bearer)).status).toBe(403);
    expect(device.calls).toEqual([]);

    expect((await post('/coocenter-api/extensions/hangup', { extension: '801' }, bearer)).status).toBe(200);
    expect((await post('/coocenter-api/queues/agent-pause', { queue: '630', member: '801', state: 'off' }, bearer)).status).toBe(200);
    const boss = `Bearer ${await signToolbarToken(KEY, { mac: MAC, ext: '805', supervisor: true, exp: NOW / 1000 + 3600 })}`;
    expect((await post('/coocenter-api/extensions/extenSpy', { src: '805', dst: '802' }, boss)).status).toBe(200);
    expect(device.calls.map((c) => c.op)).toEqual(['hangup', 'agent-pause', 'exten-spy']);
  });
});

async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, text: string): Promise<string> {
  let all = '';
  while (!all.includes(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`stream ended before ${text}: ${all}`);
    all += new TextDecoder().decode(value);
  }
  return all;
}

describe('the toolbar feed', () => {
  it("streams one extension's events, resumes after Last-Event-ID, and shows an open wrap-up's time left on connect", async () => {
    const clock = new ManualClock(NOW);
    const feed = new ToolbarFeed({ clock, popUrl: () => 'https://crm.example.com/pop' });
    const r801 = feed.stream('801', undefined).getReader();
    await readUntil(r801, 'event: snapshot');
    feed.publishDocumented([
      { type: 'extensionstatus', body: JSON.stringify({ event: 'extensionstatus', exten: '802', status: '8', statustext: 'Ringing', mac: MAC }) },
      { type: 'extensionstatus', body: JSON.stringify({ event: 'extensionstatus', exten: '801', status: '8', statustext: 'Ringing', mac: MAC }) },
    ]);
    const seen = await readUntil(r801, '"exten":"801"');
    expect(seen).not.toContain('"exten":"802"');
    const lastId = /id: (\S+)\n/.exec(seen)![1];

    feed.publish([{ type: 'wrapup', ext: '801', interface: 'SIP/801', callId: '1.1', state: 'begin', remainingMs: 30_000 }]);
    clock.advance(10_000);
    const again = feed.stream('801', lastId).getReader();
    const text = await readUntil(again, 'event: wrapup');
    expect(text).toContain('"popUrl":"https://crm.example.com/pop"');
    expect(text).toContain('"remainingMs":20000');
    expect(text).not.toContain('event: extensionstatus');
    feed.close();
    expect(feed.listeners).toBe(0);
  });
});
