import type { AmiMessage } from '../ami/message.ts';
import type { DocumentedEvent } from '../../shared/events/index.ts';
import { type ExtensionDirectory, isLocalChannel } from '../extensions.ts';
import { CallFactsStore } from './call-facts.ts';
import { CC_CDR_EVENTS, CC_CDR_VARIABLES } from './cc-cdr.ts';
import { cdr } from './cdr.ts';
import type { TranslateContext } from './context.ts';
import { dialbegein } from './dialbegein.ts';
import { dialend } from './dialend.ts';
import { extensionstatus } from './extensionstatus.ts';
import { field } from './fields.ts';
import { hangup } from './hangup.ts';
import { ivr } from './ivr.ts';
import { LocalChannels, TRANSFERER_VARIABLES } from './local-channels.ts';

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

/**
 * Every AMI event the agent reads: the translators', and the cc_cdr machine's (which cover the toolbar's
 * and the wrap-up's). deploy/manager.conf.example grants their read classes (test/unit/deploy-manager-conf.test.ts).
 */
export const READ_EVENTS: ReadonlySet<string> = new Set([...Object.keys(TRANSLATORS), ...CC_CDR_EVENTS]);
/** Variables the call records read, and those that name the phone behind a consult's Local pair. */
const WANTED_VARIABLES: ReadonlySet<string> = new Set([...CC_CDR_VARIABLES, ...TRANSFERER_VARIABLES]);

/**
 * True for events nothing here reads: most VarSets (half the stream), Newexten but the Queue app's,
 * RTCP*, DeviceStateChange, security events, ... A header read and a set lookup.
 */
export function isNoise(ami: AmiMessage): boolean {
  const name = ami.event;
  if (name === 'VarSet') return !WANTED_VARIABLES.has(ami.get('Variable') ?? '');
  if (name === 'Newexten') return ami.get('Application') !== 'Queue';
  return name === undefined || !READ_EVENTS.has(name);
}

export interface EventTranslatorOptions {
  mac: string;
  timeZone: string;
  monitorDir: string;
}

/** Identical DialEnds remembered, to push Asterisk's duplicates once (ringall queues send two CANCELs). */
const DIAL_ENDS_KEPT = 2000;

/**
 * AMI events -> the documented events other than cc_cdr (CcCdrMachine makes those). Keeps the call
 * facts (recording, direction, IVR entry) that `cdr` and `ivr` need from earlier events, and which
 * phone stands behind each Local channel: no event names a Local channel.
 */
export class EventTranslator {
  readonly facts: CallFactsStore;
  private readonly locals = new LocalChannels();
  private readonly dialEnds = new Set<string>();

  constructor(private readonly opts: EventTranslatorOptions) {
    this.facts = new CallFactsStore(opts.monitorDir);
  }

  /** The box's extensions, so a trunk's channel tells a call's direction. */
  setDirectory(directory: ExtensionDirectory): void {
    this.facts.directory = directory;
  }

  translate(ami: AmiMessage, receivedAt: number): DocumentedEvent | null {
    if (isNoise(ami)) return null;
    this.facts.note(ami, receivedAt);
    this.locals.note(ami);
    const translator = TRANSLATORS[ami.event as string];
    if (!translator) return null;
    const subject = this.withoutLocals(ami);
    if (subject === null) return null;
    return translator(subject, { ...this.opts, receivedAt, facts: this.facts });
  }

  /**
   * The event as a CRM should see it: a Dial towards a Local channel is dropped (the leg beyond it
   * is told with its real phone), a Dial from a Local channel is told as the phone behind it, a Local
   * channel's Hangup is dropped, and a DialEnd Asterisk repeats is dropped.
   */
  private withoutLocals(ami: AmiMessage): AmiMessage | null {
    const event = ami.event;
    if (event === 'Hangup') return isLocalChannel(field(ami, 'Channel')) ? null : ami;
    if (event !== 'DialBegin' && event !== 'DialEnd') return ami;
    if (isLocalChannel(field(ami, 'DestChannel'))) return null;
    if (event === 'DialEnd') {
      const key = `${ami.get('DestUniqueid') ?? ''}\n${ami.get('DialStatus') ?? ''}`;
      if (this.dialEnds.has(key)) return null;
      this.dialEnds.add(key);
      if (this.dialEnds.size > DIAL_ENDS_KEPT) this.dialEnds.delete(this.dialEnds.values().next().value as string);
    }
    const from = field(ami, 'Channel');
    if (!isLocalChannel(from)) return ami;
    const phone = this.locals.phoneBehind(from);
    if (!phone) return null;
    return ami.with({ Channel: phone.channel, CallerIDNum: phone.num || field(ami, 'CallerIDNum') });
  }
}
