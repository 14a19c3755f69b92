import { AmiMessage } from '../../agent/ami/message.ts';
import { AmiParser } from '../../agent/ami/parser.ts';
import { CcCdrMachine, type CcCdrOptions, type CcCdrOutput } from '../../agent/events/cc-cdr.ts';
import { EventTranslator } from '../../agent/events/translate.ts';
import type { CcCdrEvent, DocumentedEvent } from '../../shared/events/index.ts';
import { loadTranscript, type Driver } from './transcript.ts';

export const MAC = '68:69:2e:03:8b:3e';
export const MONITOR = '/var/spool/asterisk/monitor';

/** Every message the server sent in a recording, parsed as the agent parses them. */
export function recordedMessages(driver: Driver, name: string): AmiMessage[] {
  const frames = new AmiParser({ expectBanner: true }).push(loadTranscript(driver, name).server);
  return frames.flatMap((f) => (f.kind === 'message' ? [f.message] : []));
}

export function recordedEvents(driver: Driver, name: string, event: string): AmiMessage[] {
  return recordedMessages(driver, name).filter((m) => m.event === event);
}

export interface Run {
  events: DocumentedEvent[];
  outputs: CcCdrOutput[];
  machine: CcCdrMachine;
  records: CcCdrEvent[];
}

/** Feeds messages in order to a translator and a cc_cdr machine; receive times step 100 ms from `start`. */
export function run(messages: AmiMessage[], options: Partial<CcCdrOptions> & { start?: number; timeZone?: string } = {}): Run {
  let now = options.start ?? Date.UTC(2026, 10, 26, 6, 0, 0);
  const timeZone = options.timeZone ?? 'UTC';
  const translator = new EventTranslator({ mac: MAC, timeZone, monitorDir: MONITOR });
  const machine = new CcCdrMachine({ mac: MAC, timeZone, monitorDir: MONITOR, now: () => now, ...options });
  const events: DocumentedEvent[] = [];
  const outputs: CcCdrOutput[] = [];
  for (const m of messages) {
    now += 100;
    const e = translator.translate(m, now);
    if (e) events.push(e);
    outputs.push(...machine.feed(m, now));
  }
  const records = outputs.flatMap((o) => (o.kind === 'cc_cdr' ? [o.record] : []));
  return { events, outputs, machine, records };
}

/** A synthetic AMI event with Asterisk's `Timestamp:` header (seconds), headers in the recordings' shape. */
export function ev(name: string, at: number, ...parts: Record<string, string>[]): AmiMessage {
  const m = new AmiMessage();
  m.add('Event', name);
  m.add('Privilege', 'call,all');
  m.add('Timestamp', at.toFixed(6));
  for (const p of parts) for (const [k, v] of Object.entries(p)) m.add(k, v);
  return m;
}

/** A channel snapshot as Asterisk writes it (prefix `Dest` for the other side of Dial and queue events). */
export function chan(channel: string, uniqueid: string, linkedid: string, num: string, name = num, prefix = ''): Record<string, string> {
  return {
    [`${prefix}Channel`]: channel,
    [`${prefix}ChannelState`]: '6',
    [`${prefix}ChannelStateDesc`]: 'Up',
    [`${prefix}CallerIDNum`]: num,
    [`${prefix}CallerIDName`]: name,
    [`${prefix}ConnectedLineNum`]: '<unknown>',
    [`${prefix}ConnectedLineName`]: '<unknown>',
    [`${prefix}Language`]: 'en',
    [`${prefix}AccountCode`]: '',
    [`${prefix}Context`]: 'internal',
    [`${prefix}Exten`]: '',
    [`${prefix}Priority`]: '1',
    [`${prefix}Uniqueid`]: uniqueid,
    [`${prefix}Linkedid`]: linkedid,
  };
}
