import type { AmiMessage } from '../ami/message.ts';
import type { DocumentedEvent } from '../../shared/events/index.ts';
import { CallFactsStore } from './call-facts.ts';
import { CC_CDR_EVENTS } from './cc-cdr.ts';
import { cdr } from './cdr.ts';
import type { TranslateContext } from './context.ts';
import { dialbegein } from './dialbegein.ts';
import { dialend } from './dialend.ts';
import { MIXMONITOR_FILENAME } from './dialplan.ts';
import { extensionstatus } from './extensionstatus.ts';
import { hangup } from './hangup.ts';
import { ivr } from './ivr.ts';

export type Translator = (ami: AmiMessage, ctx: TranslateContext) => DocumentedEvent | null;

/** AMI event name (as Asterisk spells it) -> the translator of the documented event it makes. */
export const TRANSLATORS: Readonly<Record<string, Translator>> = {
  DialBegin: dialbegein,
  DialEnd: dialend,
  Hangup: hangup,
  ExtensionStatus: extensionstatus,
  UserEvent: ivr,
  Cdr: cdr,
};

const WANTED: ReadonlySet<string> = new Set([...Object.keys(TRANSLATORS), ...CC_CDR_EVENTS]);

/**
 * True for events nothing here reads: VarSet (half the stream; only MixMonitor's file name matters),
 * Newexten, RTCP*, DeviceStateChange, security events, ... A header read and a set lookup.
 */
export function isNoise(ami: AmiMessage): boolean {
  const name = ami.event;
  if (name === 'VarSet') return ami.get('Variable') !== MIXMONITOR_FILENAME;
  return name === undefined || !WANTED.has(name);
}

export interface EventTranslatorOptions {
  mac: string;
  timeZone: string;
  monitorDir: string;
}

/**
 * AMI events -> the documented events other than cc_cdr (CcCdrMachine makes those). Keeps the call
 * facts (recording, trunk, IVR entry) that `cdr` and `ivr` need from earlier events.
 */
export class EventTranslator {
  readonly facts: CallFactsStore;

  constructor(private readonly opts: EventTranslatorOptions) {
    this.facts = new CallFactsStore(opts.monitorDir);
  }

  translate(ami: AmiMessage, receivedAt: number): DocumentedEvent | null {
    if (isNoise(ami)) return null;
    this.facts.note(ami, receivedAt);
    const translator = TRANSLATORS[ami.event as string];
    if (!translator) return null;
    return translator(ami, { ...this.opts, receivedAt, facts: this.facts });
  }
}
