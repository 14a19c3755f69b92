import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent, type AgentOptions, type RunningAgent } from '../../agent/agent.ts';
import { parseConfig } from '../../agent/config.ts';
import { scaledClock, systemClock, type Clock } from '../../shared/clock.ts';
import { webhookId } from '../../shared/delivery/signature.ts';
import { startPbxSim, type PbxSim } from '../pbxsim/index.ts';
import { admin, call, provision } from '../support/edge-harness.ts';
import { until } from '../support/wait.ts';
import { WebhookReceiver, type Responder } from '../support/webhook-receiver.ts';
import { nodeEdge, type EdgeRuntime, type FaultEdge } from './edges.ts';
import type { FaultRow } from './figures.ts';
import { TcpProxy } from './tcp-proxy.ts';

export const MAC = '68:69:2e:03:8b:3e';

/** The agent's clock on the same scaled time as the edge and the simulator. */
export function scaledTime(scale: number): Clock {
  return scale === 1 ? systemClock : scaledClock(scale);
}

/**
 * The outside number of the stream's call `n` (see callStream): every event of a call carries it,
 * so a delivery tells which call of the stream it came from.
 */
export function streamCaller(n: number): string {
  return `1380013${String(8000 + (n % 1000))}`;
}

/** The stream call an event body is about, or null (an event of no stream call). */
function streamCallOf(body: string): number | null {
  const m = /1380013(\d{4})/.exec(body);
  return m ? Number(m[1]) - 8000 : null;
}

/** What the receiver accepted, by webhook-id, in arrival order. */
export class Tally {
  readonly firstSeqs: number[] = [];
  /** For each first delivery, the stream call it was about (null: none). */
  private readonly firstCalls: (number | null)[] = [];
  private readonly seen = new Map<string, number>();
  duplicated = 0;
  accept(id: string, body = ''): void {
    const n = this.seen.get(id) ?? 0;
    this.seen.set(id, n + 1);
    if (n > 0) this.duplicated++;
    else {
      this.firstSeqs.push(Number(id.split('_').at(-1)));
      this.firstCalls.push(streamCallOf(body));
    }
  }
  get delivered(): number {
    return this.firstSeqs.length;
  }
  /** Whether the receiver accepted this webhook-id. */
  has(id: string): boolean {
    return this.seen.has(id);
  }
  /** Events delivered of stream calls `first` and later: calls placed after a fault began. */
  deliveredOfCallsFrom(first: number): number {
    return this.firstCalls.filter((c) => c !== null && c >= first).length;
  }
  get outOfOrder(): number {
    let max = -1;
    let bad = 0;
    for (const s of this.firstSeqs) {
      // A backfilled event's id (evt_<mac>_bf_<hash>) shows no seq: it is counted, not ordered; let
      // into max, its NaN would turn every later comparison false and hide any disorder after it.
      if (Number.isNaN(s)) continue;
      if (s < max) bad++;
      max = Math.max(max, s);
    }
    return bad;
  }
}

export interface StackOptions {
  /** Time scale of the whole path (simulator, agent timers, edge clock): 0.05 runs 20x faster. */
  scale: number;
  /** Through the edge (tunnel behind a cuttable proxy) or straight from the agent (LAN mode). */
  via: 'edge' | 'lan';
  respond?: Responder;
  outboxBounds?: AgentOptions['outboxBounds'];
  commandTimeoutMs?: number;
  /** The agent's delivery clock alone (LAN mode), for hours of webhook retries without hurrying AMI. */
  deliveryScale?: number;
  /** Rate limits out of the way, so what refuses a hostile request is the validation itself. */
  noRateLimits?: boolean;
  /** Which edge the tunnel reaches: the Node edge unless told (see edges.ts). */
  edge?: EdgeRuntime;
  /** The edge's webhook retry waits times this, where its clock is not the scenario's (Workers). */
  edgeRetryScale?: number;
}

const UNLIMITED = { perSecond: 1e6, burst: 1e6 };

export type Stack = Awaited<ReturnType<typeof startStack>>;

/** Simulator, agent, edge (with a proxy on its tunnel) and webhook receiver, wired as in production. */
export async function startStack(o: StackOptions) {
  const dir = mkdtempSync(join(tmpdir(), 'coo-faults-'));
  const cleanups: (() => unknown)[] = [() => rmSync(dir, { recursive: true, force: true })];
  const tally = new Tally();
  let respond: Responder = o.respond ?? (() => ({ status: 200 }));
  const receiver = await new WebhookReceiver((r, n): ReturnType<Responder> => {
    const a = respond(r, n);
    if (a !== 'hang' && a.status >= 200 && a.status < 300) tally.accept(String(r.headers['webhook-id']), r.body);
    return a;
  }).start();
  cleanups.push(() => receiver.stop());
  let sim = await startPbxSim({ driver: 'sip', timeScale: o.scale });
  cleanups.push(() => sim.close());
  const clock = scaledTime(o.scale);
  const logs: Record<string, unknown>[] = [];

  const runtime = o.edge ?? nodeEdge;
  // What the webhooks' delivery waits on: the agent's own delivery clock in LAN mode, else the
  // edge's, which is the scenario's on the Node edge and real time on workerd.
  const deliveryClock = o.via === 'lan' ? (o.deliveryScale ? scaledClock(o.deliveryScale) : clock) : runtime.scenarioClock ? clock : systemClock;
  let edge: FaultEdge | null = null;
  let proxy: TcpProxy | null = null;
  let tenantKey = '';
  let tunnel = '';
  let deviceToken = '';
  if (o.via === 'edge') {
    edge = await runtime.start({ dir, clock, commandTimeoutMs: o.commandTimeoutMs ?? 3000, noRateLimits: o.noRateLimits ?? false, ...(o.edgeRetryScale ? { retryScale: o.edgeRetryScale } : {}) });
    cleanups.push(() => edge!.close());
    const secrets = await provision(edge, MAC, { url: receiver.url });
    tenantKey = secrets.tenantKey;
    deviceToken = secrets.token;
    proxy = await new TcpProxy(edge.port).start();
    cleanups.push(() => proxy!.close());
    tunnel = `[tunnel]\nedge=ws://127.0.0.1:${proxy.port}\ntoken=${secrets.token}\n`;
  }
  const conf = parseConfig(
    `[general]\nBINDPORT=0\nmac=${MAC}\n${o.via === 'lan' ? `URL=${receiver.url}\nWEBHOOK_SECRET=s3cret\n` : ''}` +
      `[ami]\nhost=127.0.0.1\nport=${sim.port}\nusername=coocenter\nsecret=coocenter\n${tunnel}[paths]\nmonitor=${join(dir, 'monitor')}\nspool=${join(dir, 'spool')}\n`,
  );
  const agent: RunningAgent = await startAgent({
    config: conf,
    log: (e) => logs.push(e),
    clock,
    ...(o.deliveryScale ? { deliveryClock } : {}),
    host: '127.0.0.1',
    port: 0,
    timeZone: 'UTC',
    ...(o.outboxBounds ? { outboxBounds: o.outboxBounds } : {}),
    ...(o.noRateLimits ? { lanRateLimits: { perKey: UNLIMITED, perBox: UNLIMITED } } : {}),
  });
  cleanups.push(() => agent.close());

  // What the agent saw of a fault: its tunnel or its AMI link leaving the working state.
  const seen = { tunnelDrops: 0, amiDrops: 0 };
  let tunnelWas = agent.tunnel?.status;
  agent.tunnel?.onStatus((st) => {
    if (tunnelWas === 'online' && st !== 'online') seen.tunnelDrops++;
    tunnelWas = st;
  });
  agent.ami.onStatus((c) => {
    if (c.previous === 'ready' && c.status !== 'ready') seen.amiDrops++;
  });

  const stack = {
    dir,
    /** The scale recovery times are converted back with: the delivery clock's when it has its own. */
    scale: o.deliveryScale ?? o.scale,
    clock,
    /** The clock the webhooks' delivery schedules its retries on, as a row times them. */
    deliveryClock,
    get sim(): PbxSim {
      return sim;
    },
    agent,
    receiver,
    tally,
    logs,
    /** What the receiver answers from now on. */
    setRespond(r: Responder) {
      respond = r;
    },
    get edge(): FaultEdge {
      if (!edge) throw new Error('no edge in a LAN stack');
      return edge;
    },
    get proxy() {
      if (!proxy) throw new Error('no proxy in a LAN stack');
      return proxy;
    },
    tenantKey,
    deviceToken,
    generated: () => agent.outbox.stats().nextSeq - 1,
    dropped: () => agent.outbox.stats().dropped,
    /** Events spooled and neither delivered nor dropped yet: what a fault holds back. */
    backlog: () => Math.max(0, stack.generated() - tally.delivered - stack.dropped()),
    /** Times the agent's tunnel left 'online' since the start. */
    get tunnelDrops() {
      return seen.tunnelDrops;
    },
    /** Times the agent's AMI link left 'ready' since the start. */
    get amiDrops() {
      return seen.amiDrops;
    },
    /** Webhook attempts the receiver's port refused (connection refused), as the agent's delivery logged them. */
    refusedAttempts: () => logs.filter((l) => l.component === 'delivery' && l.msg === 'webhook attempt failed' && String(l.error).includes('ECONNREFUSED')).length,
    /**
     * The dead letters of the device as the delivery's own store lists them (the edge's admin API,
     * the agent's spool in LAN mode), each with its webhook-id and the reason it was set aside.
     */
    async deadLetters(): Promise<{ seq: number; webhookId: string; reason: string }[]> {
      type Letter = { epoch: string; seq: number; id?: string; reason: string };
      let letters: readonly Letter[];
      if (edge) {
        const r = await admin(edge, 'GET', `/admin/devices/${MAC}/dead-letters`);
        if (r.status !== 200) throw new Error(`dead letters: ${r.status} ${JSON.stringify(r.body)}`);
        letters = r.body as Letter[];
      } else letters = await agent.outbox.listDeadLetters();
      return letters.map((l) => ({ seq: l.seq, webhookId: webhookId(MAC, l.epoch, l.seq, l.id), reason: l.reason }));
    },
    /**
     * Where the head stands in its retry schedule, as the device status shows it on the edge
     * (`delivery`), or null while the edge has no delivery loop for the device yet.
     */
    async deliveryStatus(): Promise<{ state: string; attempts: number; nextAttemptAt: string | null; lastError: { status: number | null } | null } | null> {
      const r = await call(`${stack.edge.url}/devices/${MAC}/status`, { headers: { authorization: `Bearer ${tenantKey}` } });
      if (r.status !== 200) throw new Error(`device status: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.delivery ?? null;
    },
    /** What goes after each row's fault name: which edge runtime it ran on. */
    suffix: o.via === 'edge' ? runtime.suffix : '',
    restartEdge: (downMs: number) => stack.edge.restart(downMs),
    async restartSim(downMs: number) {
      const port = sim.port;
      sim.refuseConnections(true);
      sim.dropConnections();
      await new Promise((r) => setTimeout(r, downMs));
      await sim.close();
      sim = await startPbxSim({ driver: 'sip', timeScale: o.scale, port });
    },
    /** A command as a CRM sends it, through the edge or the LAN API; status and real ms taken. */
    async command(): Promise<{ status: number; ms: number; message?: string }> {
      const t = Date.now();
      const url = edge ? `${edge.url}/devices/${MAC}/coocenter-api/queues/queue-info` : `${agent.lanUrl}/queues/queue-info`;
      try {
        const r = await call(url, { headers: edge ? { authorization: `Bearer ${tenantKey}` } : {}, signal: AbortSignal.timeout(30_000) });
        return { status: r.status, ms: Date.now() - t, ...(typeof r.body?.message === 'string' ? { message: r.body.message } : {}) };
      } catch (e) {
        return { status: 0, ms: Date.now() - t, message: (e as Error).message };
      }
    },
    async close() {
      for (const c of cleanups.splice(0).reverse()) await c();
    },
  };
  return stack;
}

/**
 * A steady stream of simulated calls (an outside caller to phone 805, which answers after 0.5 s),
 * one every `everyMs` real ms until stopped; `stop()` waits for every call to end.
 */
export function callStream(stack: Stack, everyMs = 150) {
  const done: Promise<unknown>[] = [];
  let n = 0;
  const timer = setInterval(() => {
    try {
      const h = stack.sim.inboundCall({ from: streamCaller(n++), to: '805', talkMs: 800, hangupBy: 'callee' });
      done.push(h.done.catch(() => undefined));
    } catch {
      // the simulator is restarting: no call this tick, as on a PBX that is down
    }
  }, everyMs);
  return {
    get started() {
      return n;
    },
    async stop() {
      clearInterval(timer);
      await Promise.race([Promise.all(done), new Promise((r) => setTimeout(r, 20_000))]);
    },
  };
}

export type CallStream = ReturnType<typeof callStream>;

/** Fires a command every `everyMs` while the fault lasts; each must be answered within `boundMs`. */
export function commandProbe(stack: Stack, boundMs: number, everyMs = 250) {
  const results: Promise<{ status: number; ms: number; message?: string }>[] = [];
  const timer = setInterval(() => results.push(stack.command()), everyMs);
  return {
    async stop() {
      clearInterval(timer);
      const all = await Promise.all(results);
      // Answered: a 200, or an error status with a message a person can act on, within the bound;
      // while the edge itself is down the connection is refused at once, which is as clear.
      const ok = all.filter((r) => r.ms <= boundMs && (r.status === 200 || (r.status >= 400 && (r.message ?? '').length > 10) || (r.status === 0 && r.message === 'fetch failed')));
      return { sent: all.length, ok: ok.length, worst: all, notOk: all.filter((r) => !ok.includes(r)) };
    },
  };
}

/**
 * Waits until every generated event was delivered, counted as dropped, or set aside as a dead letter
 * (read from the delivery's store a few times a second, so a row that set aside what it should not
 * ends here and says so, rather than waiting out its time); returns the real ms it took.
 *
 * With `quietMs`, that must hold for so long with nothing new spooled: the last call's last events
 * reach the agent just after the simulator ended it, and a wait that returned before they were
 * spooled would leave them out of the row's count (neither generated nor lost). The ms returned are
 * then those until it first held in that last quiet window, so the window is not counted as recovery.
 */
export async function drained(stack: Stack, ms = 60_000, quietMs = 0): Promise<number> {
  const t = Date.now();
  let dead = 0;
  let readAt = 0;
  const settled = async () => {
    if (stack.generated() === 0) return false;
    if (stack.tally.delivered + stack.dropped() >= stack.generated()) return true;
    if (Date.now() - readAt >= 250) {
      readAt = Date.now();
      dead = (await stack.deadLetters().catch(() => [])).length;
    }
    return stack.tally.delivered + stack.dropped() + dead >= stack.generated();
  };
  let since: number | null = null;
  let generated = -1;
  await until(
    async () => {
      const now = stack.generated();
      if (!(await settled())) since = null;
      else if (since === null || now !== generated) since = Date.now();
      generated = now;
      return since !== null && Date.now() - since >= quietMs;
    },
    'every event delivered',
    ms,
  ).catch(() => undefined);
  return (since ?? Date.now()) - t;
}

/** What a fault row counted of its fault, and when it came in the stream (see FaultRow). */
export type FaultEvidence = Pick<FaultRow, 'injected' | 'injectedWhat' | 'injectedDetail' | 'deliveredBefore' | 'deliveredAfter' | 'waitingAtHeal' | 'deadLettered' | 'backfilled'>;

export function rowOf(stack: Stack, fault: string, cmds: { sent: number; ok: number }, recoveryRealMs: number | null, note?: string, evidence: FaultEvidence = { injected: 0, injectedWhat: 'not counted' }): FaultRow {
  const generated = stack.generated();
  const dropped = stack.dropped();
  return {
    fault,
    ...evidence,
    generated,
    delivered: stack.tally.delivered,
    duplicated: stack.tally.duplicated,
    // A dead letter was not lost: it is kept, listed with its reason, and can be redelivered.
    lost: Math.max(0, generated - stack.tally.delivered - dropped - (evidence.deadLettered ?? 0)),
    droppedCounted: dropped,
    outOfOrder: stack.tally.outOfOrder,
    commands: cmds.sent,
    commandsAnsweredInTime: cmds.ok,
    badThrough: 0,
    recoverySec: recoveryRealMs === null ? null : Math.round(recoveryRealMs / stack.scale / 100) / 10,
    ...(note ? { note } : {}),
  };
}
