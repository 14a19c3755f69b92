import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import type { AmiMessage } from '../../agent/ami/message.ts';
import { channelActions } from './actions/channel-control.ts';
import { coreActions } from './actions/core.ts';
import { databaseActions } from './actions/database.ts';
import { hintActions } from './actions/hints.ts';
import { originateActions } from './actions/originate.ts';
import { pjsipActions, sipActions } from './actions/peers.ts';
import { queueActions } from './actions/queues.ts';
import { simActions } from './actions/sim.ts';
import { scaledClock, type SimClock } from './clock.ts';
import type { Driver, PhoneBehaviour, PhoneConfig, QueueConfig } from './config.ts';
import { Pbx } from './pbx.ts';
import { hold, inboundCall, register, type InboundCallOptions, type ScenarioHandle } from './scenarios.ts';
import { AmiServer } from './server.ts';

export type { Driver, PhoneBehaviour, InboundCallOptions, ScenarioHandle };

export interface PbxSimOptions {
  port?: number;
  host?: string;
  user?: string;
  secret?: string;
  driver?: Driver;
  /** 1 = real time; 0.02 = 50x faster. Durations in events stay in simulated time. */
  timeScale?: number;
  /** manager.conf timestampevents=yes. */
  timestampEvents?: boolean;
  /** MixMonitor files are written below this folder. */
  recordingsDir?: string;
  /** Replaces the scaled real-time clock (timeScale is then ignored). */
  clock?: SimClock;
  phones?: PhoneConfig[];
  queues?: QueueConfig[];
}

export interface QueueCallOptions extends Omit<InboundCallOptions, 'to'> {
  queue: string;
}

export interface IvrCallOptions extends Omit<InboundCallOptions, 'to'> {}

export interface PbxSim {
  readonly host: string;
  readonly port: number;
  readonly driver: Driver;
  /** Every action received, in order, as parsed from the wire. */
  readonly actions: AmiMessage[];
  /** The state model, for assertions the AMI does not show. */
  readonly pbx: Pbx;
  setPhone(ext: string, change: Partial<PhoneBehaviour>): void;
  inboundCall(o: InboundCallOptions): ScenarioHandle;
  queueCall(o: QueueCallOptions): ScenarioHandle;
  ivrCall(o: IvrCallOptions): ScenarioHandle;
  hold(target: string, on: boolean): void;
  register(ext: string, on: boolean): void;
  reset(): void;
  /** Holds every `action` (e.g. 'Ping') unanswered until the returned release is called. */
  stall(action: string): () => void;
  /** Resolves with the next action named `name` (or one already received after `since`). */
  waitForAction(name: string, since?: number): Promise<AmiMessage>;
  dropConnections(): void;
  refuseConnections(on: boolean): void;
  close(): Promise<void>;
}

/** Keeps a MixMonitor file name inside the recordings folder. */
function recordingWriter(dir: string) {
  const root = resolve(dir);
  return (rel: string, data: Uint8Array) => {
    const path = resolve(join(root, rel));
    if (!path.startsWith(root + sep)) return;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, data);
  };
}

export async function startPbxSim(options: PbxSimOptions = {}): Promise<PbxSim> {
  const driver = options.driver ?? 'sip';
  const clock = options.clock ?? scaledClock(options.timeScale ?? 1);
  const pbx = new Pbx({
    driver,
    clock,
    phones: options.phones,
    queues: options.queues,
    writeRecording: options.recordingsDir ? recordingWriter(options.recordingsDir) : undefined,
  });
  const actions: AmiMessage[] = [];
  const actionWaiters = new Set<{ name: string; resolve: (m: AmiMessage) => void }>();
  const server = new AmiServer({
    pbx,
    user: options.user ?? 'coocenter',
    secret: options.secret ?? 'coocenter',
    timestampEvents: options.timestampEvents ?? false,
    actions: { ...coreActions, ...(driver === 'sip' ? sipActions : pjsipActions), ...hintActions, ...queueActions, ...databaseActions, ...originateActions, ...channelActions, ...simActions },
    onAction(msg) {
      actions.push(msg);
      for (const w of actionWaiters) {
        if (msg.get('Action')?.toLowerCase() !== w.name) continue;
        actionWaiters.delete(w);
        w.resolve(msg);
      }
    },
  });
  const addr = await server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  return {
    host: addr.address,
    port: addr.port,
    driver,
    actions,
    pbx,
    setPhone: (ext, change) => pbx.setPhone(ext, change),
    inboundCall: (o) => inboundCall(pbx, o),
    queueCall: ({ queue, ...o }) => inboundCall(pbx, { ...o, to: queue }),
    ivrCall: (o) => inboundCall(pbx, { ...o, to: '700' }),
    hold: (target, on) => void hold(pbx, target, on),
    register: (ext, on) => register(pbx, ext, on),
    reset: () => pbx.reset(),
    stall: (action) => server.stall(action),
    waitForAction(name, since = actions.length) {
      const lower = name.toLowerCase();
      const seen = actions.slice(since).find((m) => m.get('Action')?.toLowerCase() === lower);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => actionWaiters.add({ name: lower, resolve }));
    },
    dropConnections: () => server.dropConnections(),
    refuseConnections: (on) => server.refuse(on),
    async close() {
      await server.close();
      pbx.reset();
    },
  };
}
