import { AmiError } from '../../agent/ami/errors.ts';
import type { AmiMessage } from '../../agent/ami/message.ts';
import { AmiParser } from '../../agent/ami/parser.ts';
import type { AmiActionOptions, AmiResult, AmiRunner } from '../../agent/ami/types.ts';
import type { AmiAction } from '../../agent/ami/writer.ts';
import { loadTranscript, type Driver } from './transcript.ts';

/** One action a real Asterisk received, with the answer it gave (list events included). */
export interface Recording {
  source: string;
  action: Record<string, string>;
  /** The answer: a result, or the `Response: Error` message. */
  result: AmiResult;
  error: boolean;
}

/** Thrown for an action no recording answers: the test fails, it never gets a made-up answer. */
export class ReplayMiss extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplayMiss';
  }
}

const messagesOf = (bytes: Buffer | string, banner: boolean): AmiMessage[] =>
  new AmiParser({ expectBanner: banner }).push(bytes).flatMap((f) => (f.kind === 'message' ? [f.message] : []));

/** Every action of a transcript (Login and Logoff aside) paired with what Asterisk answered, matched by ActionID. */
export function recordingsOf(driver: Driver, name: string): Recording[] {
  const t = loadTranscript(driver, name);
  const server = messagesOf(t.server, true);
  const out: Recording[] = [];
  for (const sent of messagesOf(t.client, false)) {
    const id = sent.actionId;
    const actionName = sent.get('Action') ?? '';
    if (id === undefined || /^(Login|Logoff)$/i.test(actionName)) continue;
    const mine = server.filter((m) => m.actionId === id);
    const response = mine.find((m) => m.has('Response') && !m.has('Event'));
    if (!response) continue;
    const events: AmiMessage[] = [];
    let complete: AmiMessage | undefined;
    if (response.get('EventList') === 'start') {
      for (const m of mine) {
        if (!m.has('Event')) continue;
        if (m.get('EventList') === 'Complete') {
          complete = m;
          break;
        }
        events.push(m);
      }
    }
    const action: Record<string, string> = {};
    for (const [k, v] of sent.entries()) if (k !== 'ActionID') action[k] = v;
    out.push({
      source: `${driver}/${name}#${id}`,
      action,
      result: complete ? { response, events, complete } : { response, events },
      error: response.get('Response') === 'Error',
    });
  }
  return out;
}

export interface ReplayOptions {
  /**
   * Per action name, the headers that pick a recording. Default: all of them, so only an action
   * identical to a recorded one is answered. Narrow it where the transcript's value was its own
   * (a channel name of another call, a CallerID text); the test then asserts the sent value itself.
   */
  keys?: Record<string, string[]>;
}

/**
 * An AmiRunner that answers from real recordings. Each sent action must (1) match a recording by
 * action name and key headers, and (2) carry only headers that the recorded action carried, i.e. a
 * shape Asterisk was seen to accept. A recording is used once while unused ones match; after that
 * the last one used answers again. `sent` lists every action as it would go on the wire.
 */
export class ReplayRunner implements AmiRunner {
  readonly sent: Record<string, string>[] = [];
  private readonly used = new Set<Recording>();

  constructor(
    private readonly recordings: Recording[],
    private readonly options: ReplayOptions = {},
  ) {}

  static of(driver: Driver, names: string[], options?: ReplayOptions): ReplayRunner {
    return new ReplayRunner(
      names.flatMap((n) => recordingsOf(driver, n)),
      options,
    );
  }

  async action(action: AmiAction, _options?: AmiActionOptions): Promise<AmiResult> {
    const sent: Record<string, string> = {};
    for (const [k, v] of Object.entries(action)) if (v !== undefined && v !== null) sent[k] = String(v);
    this.sent.push(sent);
    const name = sent.Action ?? '';
    const keys = this.options.keys?.[name];
    const matches = this.recordings.filter((r) => {
      if ((r.action.Action ?? '').toLowerCase() !== name.toLowerCase()) return false;
      const compare = keys ?? [...new Set([...Object.keys(sent), ...Object.keys(r.action)])];
      return compare.every((k) => sent[k] === r.action[k]);
    });
    const rec = matches.find((r) => !this.used.has(r)) ?? this.lastUsedOf(matches);
    if (!rec) throw new ReplayMiss(`no recording answers ${JSON.stringify(sent)}`);
    for (const k of Object.keys(sent)) {
      if (!(k in rec.action)) throw new ReplayMiss(`header ${k} of ${JSON.stringify(sent)} was never sent to Asterisk in ${rec.source}`);
    }
    this.used.add(rec);
    if (rec.error) throw new AmiError('AMI_RESPONSE', rec.result.response.get('Message') ?? 'error', rec.result.response);
    return rec.result;
  }

  private lastUsedOf(matches: Recording[]): Recording | undefined {
    return [...matches].reverse().find((r) => this.used.has(r));
  }

  /** The sent actions with one action name, in order. */
  sentOf(actionName: string): Record<string, string>[] {
    return this.sent.filter((a) => a.Action === actionName);
  }
}

/** A runner whose every action fails the way a dead or slow AMI connection does. */
export function failingRunner(code: 'AMI_NOT_CONNECTED' | 'AMI_DISCONNECTED' | 'AMI_TIMEOUT'): AmiRunner {
  return {
    action: () => Promise.reject(new AmiError(code, `simulated ${code}`)),
  };
}
