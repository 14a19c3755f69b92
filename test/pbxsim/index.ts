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
import { transferActions } from './actions/transfer.ts';
import { scaledClock, type SimClock } from './clock.ts';
import type { Driver, PhoneBehaviour, PhoneConfig, QueueConfig } from './config.ts';
import { Pbx } from './pbx.ts';
import { cdrCsvWriter, checkTimeZone, queueLogWriter, type CdrCsvOptions, type QueueLogOptions } from './record-files.ts';
import {
  hold,
  inboundCall,
  phoneHangup,
  pickup,
  register,
  transfer,
  trunkCall,
  type InboundCallOptions,
  type PickupOptions,
  type ScenarioHandle,
  type TrunkCallOptions,
} from './scenarios.ts';
import { AmiServer } from './server.ts';

export type { Driver, PhoneBehaviour, InboundCallOptions, ScenarioHandle, TrunkCallOptions, PickupOptions, CdrCsvOptions, QueueLogOptions };

export interface PbxSimOptions {
  port?: number;
  host?: string;
  user?: string;
  secret?: string;
  driver?: Driver;
  /**
   * Both drivers at once: each extension listed uses its own (`{ '805': 'pjsip' }`), the others
   * `driver`. See MIXED_DRIVERS for the CLI's `--driver mixed`.
   */
  drivers?: Record<string, Driver>;
  /** What CoreSettings and `core show version` report (default 20.20.1); below 13.8 newer headers go. */
  asteriskVersion?: string;
  /** SIP peers that are trunks (default `['trunk']`; `[]` for the configuration of recordings 01-32). */
  trunks?: string[];
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
  /**
   * Appends app_queue's queue_log here (as the file backend of main/logger.c writes
   * /var/log/asterisk/queue_log): QUEUESTART at start, then a line per queue event. Absent: not written.
   */
  queueLogFile?: string;
  /** queues.conf `[general]` options that change queue_log lines (log_membername_as_agent, log-caller-id-name). */
  queueLog?: QueueLogOptions;
  /** Appends cdr_csv's Master.csv here, a line per CDR (created with the first). Absent: not written. */
  cdrCsvFile?: string;
  /** cdr.conf `[csv]`: loguniqueid, loguserfield, newcdrcolumns (all yes by default here), usegmtime (no). */
  cdrCsv?: CdrCsvOptions;
  /**
   * The box's local time zone (IANA name), for Master.csv dates; default the process's own (TZ). The
   * AMI's Cdr times stay in the process's zone.
   */
  timeZone?: string;
}

export interface QueueCallOptions extends Omit<InboundCallOptions, 'to'> {
  queue: string;
}

export interface IvrCallOptions extends Omit<InboundCallOptions, 'to'> {}

/** `--driver mixed`: 800-804 on chan_sip, 805-809 on PJSIP. */
export const MIXED_DRIVERS: Record<string, Driver> = { '800': 'sip', '801': 'sip', '802': 'sip', '803': 'sip', '804': 'sip', '805': 'pjsip', '806': 'pjsip', '807': 'pjsip', '808': 'pjsip', '809': 'pjsip' };

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
  /** An outside caller on the trunk dials a DID (context from-trunk), as recording 39. */
  trunkCall(o: TrunkCallOptions): ScenarioHandle;
  /** Directed pickup: `by` dials `*8<target>` while `target` rings. */
  pickup(o: PickupOptions): ScenarioHandle;
  /** AMI BlindTransfer of a phone's channel (or a channel by name) to exten@context (default internal). */
  blindTransfer(target: string, exten: string, context?: string): void;
  /** AMI Atxfer of a phone's channel; hang the transferer up (AMI Hangup or hangupPhone) to complete it. */
  atxfer(target: string, exten: string, context?: string): void;
  /** The phone (or named channel) hangs up by itself: a BYE, HangupRequest. */
  hangupPhone(target: string): void;
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
  if (options.timeZone !== undefined) checkTimeZone(options.timeZone);
  const onQueueLog = options.queueLogFile ? queueLogWriter(options.queueLogFile) : undefined;
  const pbx = new Pbx({
    driver,
    drivers: options.drivers,
    trunks: options.trunks,
    asteriskVersion: options.asteriskVersion,
    clock,
    phones: options.phones,
    queues: options.queues,
    writeRecording: options.recordingsDir ? recordingWriter(options.recordingsDir) : undefined,
    queueLog: options.queueLog,
    onQueueLog,
    onCdr: options.cdrCsvFile ? cdrCsvWriter(options.cdrCsvFile, options.cdrCsv, options.timeZone) : undefined,
    timeZone: options.timeZone,
  });
  const actions: AmiMessage[] = [];
  const actionWaiters = new Set<{ name: string; resolve: (m: AmiMessage) => void }>();
  const server = new AmiServer({
    pbx,
    user: options.user ?? 'coocenter',
    secret: options.secret ?? 'coocenter',
    timestampEvents: options.timestampEvents ?? false,
    actions: {
      ...coreActions,
      ...(pbx.hasDriver('sip') ? sipActions : {}),
      ...(pbx.hasDriver('pjsip') ? pjsipActions : {}),
      ...hintActions,
      ...queueActions,
      ...databaseActions,
      ...originateActions,
      ...channelActions,
      ...transferActions,
      ...simActions,
    },
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
  // main/logger.c logger_queue_start, once Asterisk is ready: the file is opened for append and
  // QUEUESTART written with NONE for callid, queue and agent.
  pbx.queueLog('NONE', 'NONE', 'NONE', 'QUEUESTART');
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
    trunkCall: (o) => trunkCall(pbx, o),
    pickup: (o) => pickup(pbx, o),
    blindTransfer: (target, exten, context) => void transfer(pbx, 'blind', target, exten, context),
    atxfer: (target, exten, context) => void transfer(pbx, 'attended', target, exten, context),
    hangupPhone: (target) => void phoneHangup(pbx, target),
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
