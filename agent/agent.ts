import { readFile, writeFile, mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { assessAsteriskVersion } from '../shared/asterisk-version.ts';
import { systemClock, type Clock } from '../shared/clock.ts';
import { deriveKey } from '../shared/auth/hmac.ts';
import { ApiError } from '../shared/errors.ts';
import type { WebhookFetch } from '../shared/delivery/webhook-fetch.ts';
import { createHttpPost } from '../shared/node/http-post.ts';
import { AmiClient } from './ami/client.ts';
import { detectDriver, type Drivers } from './ami/driver.ts';
import { tcpConnect } from './ami/tcp.ts';
import { AmiDevice } from './ami-device.ts';
import { webkeyDigests } from './auth/webkey.ts';
import type { AgentConfig } from './config.ts';
import { startLanDelivery, type LanDelivery } from './delivery-lan.ts';
import { EventPipeline } from './events/pipeline.ts';
import { BOX_ZONE } from './events/time.ts';
import { Wrapup } from './events/wrapup.ts';
import { listHints } from './ops/hints.ts';
import { createLanApp, type LanRateLimits } from './lan-app.ts';
import { createLanServer } from './lan-server.ts';
import type { Log } from './log.ts';
import { linkLogger } from './link-log.ts';
import { firstNicMac } from './mac.ts';
import type { ChannelDriver } from './ops/context.ts';
import { GapLog } from './outbox/gap-log.ts';
import { backfillSources, GapBackfill } from './backfill/gap-backfill.ts';
import { Outbox, type OutboxOptions } from './outbox/outbox.ts';
import { createRecordings } from './recordings.ts';
import { loadToolbarKey } from './toolbar-key.ts';
import { AgentToolbar } from './toolbar.ts';
import { TunnelClient } from './tunnel/client.ts';
import type { TunnelConnect } from './tunnel/socket.ts';
import { wsConnect } from './tunnel/ws-connect.ts';
import { describeRuntime } from './runtime.ts';
import { AGENT_VERSION } from './version.ts';

export interface AgentOptions {
  config: AgentConfig;
  log: Log;
  /** Time for everything that waits: AMI and tunnel backoff, heartbeats, wrap-up, delivery. */
  clock?: Clock;
  /** Delivery's own clock, when a fault test scales only the retry schedule. Default: `clock`. */
  deliveryClock?: Clock;
  fetch?: WebhookFetch;
  tunnelConnect?: TunnelConnect;
  /** Host the LAN API binds to (the box serves its LAN; tests bind 127.0.0.1). */
  host?: string;
  /** Overrides BINDPORT (0 for any free port in tests). */
  port?: number;
  /** How long start waits for the first AMI login; default: for ever (the outbox keeps flowing). */
  amiReadyTimeoutMs?: number;
  /** The PBX's IANA time zone; default: the process's own (BOX_ZONE). */
  timeZone?: string;
  /** The outbox's disk bound (default 256 MiB in 4 MiB segments); past it the oldest events are dropped and counted. */
  outboxBounds?: Pick<OutboxOptions, 'maxBytes' | 'segmentBytes'>;
  lanRateLimits?: LanRateLimits;
  /** Called once AMI is logged in and the LAN API listens (the CLI prints the ready line). */
  onReady?(agent: RunningAgent): void;
}

export interface RunningAgent {
  mac: string;
  ami: AmiClient;
  device: AmiDevice;
  drivers: Drivers;
  outbox: Outbox;
  pipeline: EventPipeline;
  wrapup: Wrapup | null;
  tunnel: TunnelClient | null;
  lanDelivery: LanDelivery | null;
  /** Where the LAN API listens, e.g. http://127.0.0.1:8000/coocenter-api */
  lanUrl: string;
  close(): Promise<void>;
}

/** How often the agent notes it is alive, so a restart can report the time it could not see AMI. */
const ALIVE_EVERY_MS = 10_000;

/**
 * Wires the agent: the durable outbox and its delivery (to the customer URL in LAN mode, up the
 * tunnel otherwise) start first, so events spooled by a previous run flow even while Asterisk is
 * down; then AMI, the channel driver, the event pipeline, wrap-up, and the LAN API on BINDPORT.
 */
export async function startAgent(opts: AgentOptions): Promise<RunningAgent> {
  const { config, log } = opts;
  const clock = opts.clock ?? systemClock;
  const timeZone = opts.timeZone ?? BOX_ZONE;
  const mac = config.general.mac ?? firstNicMac();
  if (!mac) throw new Error('no MAC address: set [general] mac in api.conf (this box has no network interface to take it from)');
  const spool = config.paths.spool;
  await mkdir(spool, { recursive: true });
  const cleanup: (() => Promise<void> | void)[] = [];
  const closeAll = async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  };

  try {
    const outbox = await Outbox.open({ ...opts.outboxBounds, dir: join(spool, 'outbox'), now: () => clock.now(), log: (e) => log({ component: 'outbox', ...e }) });
    cleanup.push(() => outbox.close());
    // The edge's status says how many events the bound dropped: at once, not at the next minute's status.
    cleanup.push(outbox.onDrop(() => tunnel?.sendStatus()));
    const gaps = await GapLog.open(join(spool, 'gaps.jsonl'));
    const alivePath = join(spool, 'alive');
    const lastAlive = Number(await readFile(alivePath, 'utf8').catch(() => '')) || null;

    const ami = new AmiClient({
      connect: tcpConnect(config.ami.host, config.ami.port),
      username: config.ami.username,
      secret: config.ami.secret,
      clock,
    });
    cleanup.push(() => ami.close());
    const amiLink = linkLogger((e) => log({ component: 'ami', ...e }), `AMI ${config.ami.host}:${config.ami.port}`, () => clock.now());

    let wrapup: Wrapup | null = null;
    let tunnel: TunnelClient | null = null;
    const toolbarKey = await loadToolbarKey(spool);
    const toolbar = new AgentToolbar({ clock, popUrl: config.general.popUrl ?? null, sendLive: (events) => tunnel?.sendLive(events) });
    const pipeline = await EventPipeline.open({
      mac,
      timeZone,
      monitorDir: config.paths.monitor,
      holdForWrapup: config.enable.pauseTime,
      // Spooled events also go to the LAN toolbars, once on disk.
      outbox: {
        appendMany: async (events) => {
          const seqs = await outbox.appendMany(events);
          toolbar.onDocumented(events);
          return seqs;
        },
        stats: () => outbox.stats(),
      },
      stateDir: join(spool, 'cc_cdr'),
      now: () => clock.now(),
      log: (e) => log({ component: 'events', ...e }),
      onWrapup: (s) => void wrapup?.begin(s.callId, s.interface),
    });
    cleanup.push(() => pipeline.close());
    if (config.enable.pauseTime) {
      wrapup = await Wrapup.open({
        ami,
        seconds: config.enable.wrapupSeconds,
        clock,
        file: join(spool, 'wrapup.json'),
        onDone: (callId, secs, iface) => pipeline.completeWrapup(callId, secs, iface),
        onChange: (entry, state) => toolbar.onWrapup(entry, state),
        log: (e) => log({ component: 'wrapup', ...e }),
      });
      const w = wrapup;
      cleanup.push(() => w.close());
      toolbar.publishOpen(w.open);
    }

    const backfill = new GapBackfill({
      gaps,
      pipeline,
      sources: backfillSources(config, timeZone),
      context: { mac, timeZone, monitorDir: config.paths.monitor },
      maxWindowMs: config.backfill.maxWindowSeconds * 1000,
      now: () => clock.now(),
      log: (e) => log({ component: 'backfill', ...e }),
      onChange: () => tunnel?.sendStatus(),
    });
    cleanup.push(() => backfill.close());

    let asteriskVersion: string | undefined;
    let downSince: number | null = lastAlive;
    // When the agent was last reading AMI: a kill -9 leaves it behind as the start of the gap.
    const markAlive = () => void writeFile(alivePath, String(clock.now())).catch(() => undefined);
    const aliveTimer = setInterval(markAlive, ALIVE_EVERY_MS);
    aliveTimer.unref();
    cleanup.push(() => clearInterval(aliveTimer));
    const expireTimer = setInterval(() => pipeline.expire(), 60_000);
    expireTimer.unref();
    cleanup.push(() => clearInterval(expireTimer));

    ami.onEvent((e) => {
      const t = clock.now();
      pipeline.push(e, t);
      wrapup?.onEvent(e, t);
      toolbar.onAmi(e);
    });

    ami.onStatus((s) => {
      if (s.status === 'ready') amiLink(true, undefined, s.amiVersion ? { amiVersion: s.amiVersion } : {});
      else if (s.status === 'reconnecting') amiLink(false, s.reason);
      if (s.status === 'ready') {
        // The closed gap is in the snapshot only once it is on disk: tell the edge then, not at the next minute's status.
        const closed = downSince === null ? Promise.resolve() : gaps.record(downSince, clock.now()).then(() => tunnel?.sendStatus(), () => undefined);
        downSince = null;
        // Reading from now: an agent killed before the first interval still leaves its gap's start.
        markAlive();
        void afterLogin().then(() => closed).then(() => backfill.run());
      } else if (s.previous === 'ready') {
        downSince = clock.now();
      }
      tunnel?.sendStatus();
    });
    const afterLogin = async () => {
      try {
        const settings = await ami.action({ Action: 'CoreSettings' });
        const version = settings.response.get('AsteriskVersion');
        // Said once per version: a reconnect to the same Asterisk has nothing new to say, an upgrade has.
        if (version !== undefined && version !== asteriskVersion) {
          const a = assessAsteriskVersion(version);
          log({ component: 'agent', level: a.support === 'supported' ? 'info' : 'warn', msg: 'asterisk version', ...a });
        }
        asteriskVersion = version;
        const queues = await ami.action({ Action: 'QueueStatus' });
        pipeline.seedQueueStatus(queues.events);
        wrapup?.resume();
        tunnel?.sendStatus();
      } catch (e) {
        log({ component: 'agent', level: 'warn', msg: 'after-login queries failed', error: (e as Error).message });
      }
      try {
        pipeline.seedHints(await listHints(ami));
      } catch (e) {
        // Asterisk 12 has no ExtensionStateList: calls are then all "internal" unless the dialplan says.
        log({ component: 'agent', level: 'warn', msg: 'hints not readable; trunk calls are not told from internal ones', error: (e as Error).message });
      }
    };

    let driver: ChannelDriver | null = null;
    let lanDelivery: LanDelivery | null = null;
    if (config.tunnel) {
      const edgeUrl = config.tunnel.edge.replace(/\/+$/, '') + '/agent/tunnel';
      tunnel = new TunnelClient({
        url: edgeUrl,
        token: config.tunnel.token,
        mac,
        connect: opts.tunnelConnect ?? wsConnect,
        device: {
          // Commands can only run once the driver is known; until then Asterisk is "not connected".
          run: (op, params, o) => (device ? device.run(op, params, o) : Promise.reject(notConnected())),
          openRecording: (p, r, o) => (device ? device.openRecording(p, r, o) : Promise.reject(notConnected())),
        },
        outbox,
        clock,
        // Status changes go through linkLogger below; the client's own lines are warnings only.
        log: (e) => e.msg !== 'tunnel status' && log({ component: 'tunnel', ...e }),
        hello: () => {
          const st = outbox.stats();
          const g = gaps.snapshot().gaps.slice(-100);
          return {
            agentVersion: AGENT_VERSION,
            runtime: describeRuntime(),
            timeZone,
            driver,
            url: config.general.url ?? null,
            popUrl: config.general.popUrl ?? null,
            wrapup: { enabled: config.enable.pauseTime, seconds: config.enable.wrapupSeconds },
            ami: ami.status,
            ...(asteriskVersion !== undefined ? { asteriskVersion } : {}),
            webkeyDigests: config.general.webkey ? webkeyDigests(config.general.webkey, clock.now(), timeZone) : [],
            outbox: { epoch: st.epoch, firstUnacked: st.oldestSeq ?? st.nextSeq, nextSeq: st.nextSeq, dropped: st.dropped },
            gaps: [...g.map((x) => ({ from: x.from, to: x.to, ...(x.backfill ? { backfill: x.backfill } : {}) })), ...(downSince !== null ? [{ from: downSince, to: null }] : [])].slice(-100),
          };
        },
      });
      const t = tunnel;
      const tunnelLink = linkLogger((e) => log({ component: 'tunnel', ...e }), `tunnel to ${edgeUrl}`, () => clock.now());
      t.onStatus((st, reason) => {
        if (st === 'online') tunnelLink(true);
        if (st === 'online') toolbar.publishOpen(wrapup?.open ?? []);
        else if (st === 'reconnecting') tunnelLink(false, reason);
      });
      t.start();
      cleanup.push(() => t.close());
      // The day's WEBKEY digests roll over at the box's midnight; outbox counters move all the time.
      const statusTimer = setInterval(() => t.sendStatus(), 60_000);
      statusTimer.unref();
      cleanup.push(() => clearInterval(statusTimer));
    } else if (config.general.url) {
      lanDelivery = startLanDelivery({
        outbox,
        url: config.general.url,
        mac,
        secret: config.general.webhookSecret ?? null,
        webkey: config.general.webkey ?? null,
        timeZone,
        clock: opts.deliveryClock ?? clock,
        fetch: opts.fetch ?? createHttpPost(),
        log: (e) => log({ component: 'delivery', ...e }),
      });
      const d = lanDelivery;
      cleanup.push(() => d.close());
    }

    ami.start();
    await ami.waitReady(opts.amiReadyTimeoutMs ?? 2 ** 31 - 1);
    const drivers = await detectDriver(ami, config.ami.driver);
    driver = drivers.driver;
    const device = new AmiDevice({
      ami,
      driver,
      drivers: drivers.loaded,
      context: config.ami.context,
      ...(config.ami.memberInterface !== undefined ? { memberInterface: config.ami.memberInterface } : {}),
      openRecording: createRecordings(config.paths.monitor),
      now: () => clock.now(),
    });
    tunnel?.sendStatus();
    const app = createLanApp({
      config,
      device,
      now: () => clock.now(),
      timeZone,
      log: (e) => log({ component: 'lan-api', ...e }),
      ...(opts.lanRateLimits ? { rateLimits: opts.lanRateLimits } : {}),
      toolbar: { mac, key: toolbarKey, feed: toolbar.feed },
      // A key of its own, derived from the spool's secret, so a toolbar token is never a recording link.
      recordingLinks: { key: await deriveKey(toolbarKey, 'coocenter recording links v1'), mac },
    });
    const host = opts.host ?? '0.0.0.0';
    const server = await new Promise<Server>((resolve, reject) => {
      const s = createLanServer(app.fetch, host).listen(opts.port ?? config.general.bindPort, host, () => resolve(s));
      s.once('error', reject);
    });
    cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    // Open toolbar streams end first, or the server would wait for them to close.
    cleanup.push(() => toolbar.close());
    const port = (server.address() as AddressInfo).port;
    const running: RunningAgent = {
      mac,
      ami,
      device,
      drivers,
      outbox,
      pipeline,
      wrapup,
      tunnel,
      lanDelivery,
      lanUrl: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/coocenter-api`,
      close: closeAll,
    };
    opts.onReady?.(running);
    return running;
  } catch (e) {
    await closeAll();
    throw e;
  }
}

function notConnected() {
  return new ApiError('PBX_UNAVAILABLE', 'Asterisk is not connected yet: the agent is waiting for its AMI login');
}
