import type { AmiMessage } from '../ami/message.ts';
import type { ExtensionDirectory } from '../extensions.ts';
import type { CallFacts, CallFactsView } from './context.ts';
import { IVR_CHOICE_STEP, MIXMONITOR_FILENAME, USER_EVENT } from './dialplan.ts';
import { inferDirection } from './direction.ts';
import { field } from './fields.ts';
import { recordingPath } from './recording-path.ts';
import { eventTimeMs } from './time.ts';

/**
 * Remembers, per call, what non-documented events announced (MixMonitor's file, the dialplan's trunk
 * and IVR entry), so `cdr` and `ivr` can carry it. Keyed by the channel's Uniqueid and by the
 * Linkedid (a Cdr names only its channel's UniqueID). Bounded: the oldest entries go first.
 */
export class CallFactsStore implements CallFactsView {
  private readonly map = new Map<string, CallFacts>();
  private readonly max: number;
  /** The box's extensions: a channel of any other device is a trunk, and tells the direction. */
  directory: ExtensionDirectory | undefined;

  constructor(private readonly monitorDir: string, max = 20_000) {
    this.max = max;
  }

  get(id: string): CallFacts | undefined {
    return this.map.get(id);
  }

  /** Records what this event tells about its call, if anything. */
  note(ami: AmiMessage, receivedAt: number): void {
    const event = ami.event;
    if (event === 'Newchannel' || event === 'DialBegin') {
      const inferred = inferDirection(ami, this.directory);
      if (inferred) this.update(ami, (f) => {
        f.direction ??= inferred.direction;
        if (inferred.trunkNumber !== '' && f.trunkNumber === undefined) f.trunkNumber = inferred.trunkNumber;
      });
    } else if (event === 'VarSet') {
      if (ami.get('Variable') !== MIXMONITOR_FILENAME) return;
      const file = recordingPath(ami.get('Value') ?? '', this.monitorDir);
      if (file !== '') this.update(ami, (f) => (f.recordFile = file));
    } else if (event === 'UserEvent') {
      const name = ami.get('UserEvent');
      if (name === USER_EVENT.trunk) {
        const direction = field(ami, 'Direction');
        const trunkNumber = field(ami, 'TrunkNumber');
        this.update(ami, (f) => {
          if (direction === 'inbound' || direction === 'outbound') f.direction = direction;
          if (trunkNumber !== '') f.trunkNumber = trunkNumber;
        });
      } else if (name === USER_EVENT.ivr && field(ami, 'Step') !== IVR_CHOICE_STEP) {
        const at = eventTimeMs(ami, receivedAt);
        this.update(ami, (f) => (f.ivrStartMs ??= at));
      }
    }
  }

  private update(ami: AmiMessage, change: (facts: CallFacts) => void): void {
    const ids = [ami.get('Uniqueid'), ami.get('Linkedid')].filter((x): x is string => !!x);
    if (ids.length === 0) return;
    let facts: CallFacts | undefined;
    for (const id of ids) facts ??= this.map.get(id);
    facts ??= {};
    change(facts);
    for (const id of ids) {
      this.map.delete(id); // re-insert: Map order is the eviction order
      this.map.set(id, facts);
    }
    while (this.map.size > this.max) this.map.delete(this.map.keys().next().value as string);
  }
}

