import { describe, expect, it, onTestFailed } from 'vitest';
import { postgresForFile } from '../support/postgres-for-file.ts';
import { until } from '../support/wait.ts';
import { clusterEdge } from './cluster-edges.ts';
import { COMMAND_BOUND_MS, runFault, sleep, type Injection } from './scenario.ts';
import { MAC, type Stack } from './stack.ts';

/** `--lease` of every edge: a dead home's devices move after 2 s (the default is 6 s), to keep the rows short. */
const LEASE_SEC = 2;
/** How long PostgreSQL stays down in its row: longer than a lease, so the edges fence themselves. */
const STORE_DOWN_MS = 3000;

const pg = postgresForFile();

const cluster = clusterEdge({ pg: pg, instances: 3, leaseSec: LEASE_SEC });

const secs = (ms: number) => (ms / 1000).toFixed(1);

/** The edges' output on a failed row: what the failure message alone cannot tell. */
function printLogsOnFailure(): void {
  onTestFailed(() => {
    try {
      process.stderr.write(`\nedges' output:\n${cluster.current.logs()}\n`);
    } catch {
      // no cluster running: it did not start, and said why
    }
  });
}

/** When the receiver accepted each webhook (real ms), from now on: the stack's 200 to everything, timed. */
function timedDeliveries(s: Stack): number[] {
  const at: number[] = [];
  s.setRespond(() => {
    at.push(Date.now());
    return { status: 200 };
  });
  return at;
}

/** A command every 250 ms as the row's probe sends them, each with when it was sent. */
function timedCommands(s: Stack) {
  const sent: Promise<{ at: number; status: number; ms: number; message?: string }>[] = [];
  const times: number[] = [];
  const timer = setInterval(() => {
    const at = Date.now();
    times.push(at);
    sent.push(s.command().then((r) => ({ at, ...r })));
  }, 250);
  return {
    /** How many commands were sent after `t`. */
    sentAfter: (t: number) => times.filter((at) => at > t).length,
    async stop() {
      clearInterval(timer);
      return Promise.all(sent);
    },
  };
}

const LOG_ERROR = /"level":"(error|warn)"/;

describe('the cluster under a steady stream of calls: three edge processes on one PostgreSQL behind nginx', () => {
  it('kill -9 of the edge instance holding the device tunnel and delivery, mid-stream under calls', () => {
    printLogsOnFailure();
    let commands: Awaited<ReturnType<ReturnType<typeof timedCommands>['stop']>> = [];
    let killedAt = 0;
    let onlineAt = 0;
    return runFault(
      'cluster',
      'kill -9 of the edge instance holding the device tunnel and delivery, mid-stream under calls',
      { scale: 1, via: 'edge', edge: cluster },
      async (s): Promise<Injection> => {
        const c = cluster.current;
        const delivered = timedDeliveries(s);
        const probe = timedCommands(s);
        // Well into the stream: events in flight and on their way to the receiver when the home dies.
        await sleep(1000);
        const drops = s.tunnelDrops;
        const generatedAtKill = s.generated();
        const deliveredAtKill = s.tally.delivered;
        killedAt = Date.now();
        const dead = await c.killHome(MAC);
        await until(() => s.tunnelDrops > drops && s.agent.tunnel?.status === 'online', 'the agent back online through another edge', 15_000);
        onlineAt = Date.now();
        const waiting = s.backlog();
        const generatedAtOnline = s.generated();
        const home = await until(
          async () => {
            const h = await c.homeOf(MAC);
            return h !== null && h !== dead.url ? h : null;
          },
          'another edge the device home in the store',
          LEASE_SEC * 1000 * 4,
        );
        // Taken over: everything the agent spooled until it was back online reaches the receiver.
        await until(() => s.tally.delivered >= generatedAtOnline && s.tally.delivered > deliveredAtKill, `the ${generatedAtOnline} events spooled until the agent was back delivered`, 30_000);
        const movedAt = Date.now();
        // A takeover quicker than the probe's period still needs commands sent after it to judge.
        await until(() => probe.sentAfter(onlineAt + 500) >= 2, 'two commands sent after the agent was back online', 5000);
        commands = await probe.stop();
        const firstAfter = delivered.find((t) => t > killedAt);
        const failed = commands.filter((r) => r.status !== 200);
        return {
          count: () => (dead.exit?.signal === 'SIGKILL' ? 1 : 0),
          what: 'edge instances killed (SIGKILL)',
          detail: () =>
            `exit signal ${dead.exit?.signal}; home :${new URL(dead.url).port} then :${new URL(home).port}; ` +
            `tunnel drops seen by the agent: ${s.tunnelDrops - drops}, back online ${secs(onlineAt - killedAt)} s after the kill; ` +
            `first webhook after the kill ${firstAfter === undefined ? 'never' : `${secs(firstAfter - killedAt)} s`} after it, events delivered since: ${s.tally.delivered - deliveredAtKill}; ` +
            `commands failed: ${failed.length} of ${commands.length} (${[...new Set(failed.map((r) => r.status))].join(', ') || 'none'}), ` +
            `the last sent ${failed.length ? secs(Math.max(...failed.map((r) => r.at)) - killedAt) : '-'} s after the kill; everything spooled until the agent was back (${generatedAtOnline - generatedAtKill} since the kill) delivered ${secs(movedAt - killedAt)} s after it`,
          waiting,
          note: `each edge with --lease ${LEASE_SEC} (default 6): a dead home's devices move after 2 s; nginx with deploy/nginx-edge.conf as shipped (hash on the MAC); real time`,
        };
      },
      () => {
        // Commands fail only while the agent reconnects, each with a clear 503 within the bound.
        const failed = commands.filter((r) => r.status !== 200);
        expect(
          failed.filter((r) => r.status !== 503 || r.ms > COMMAND_BOUND_MS || (r.message ?? '').length <= 10),
          'failed commands: each a 503 with a message, within the bound',
        ).toEqual([]);
        expect(
          failed.filter((r) => r.at < killedAt - 100 || r.at > onlineAt + 500),
          `failed commands: only between the kill and the agent back online (${secs(onlineAt - killedAt)} s after it)`,
        ).toEqual([]);
        expect(
          commands.filter((r) => r.at > onlineAt + 500).length,
          'commands sent after the agent was back online',
        ).toBeGreaterThan(0);
      },
    );
  }, 120_000);

  it('PostgreSQL restarted (stop, 3 s down, start) under calls: the edges wait and recover', () => {
    printLogsOnFailure();
    let storeCommands: Awaited<ReturnType<ReturnType<typeof timedCommands>['stop']>> = [];
    let storeWas = { stoppedAt: 0, upAt: 0 };
    onTestFailed(() => {
      const rel = (t: number) => secs(t - storeWas.stoppedAt);
      process.stderr.write(
        `\ncommands (s after the stop, status, ms, message), store up again at ${rel(storeWas.upAt)} s:\n` +
          storeCommands.map((r) => `${rel(r.at)} ${r.status} ${r.ms} ${r.message ?? ''}`).join('\n') +
          '\n',
      );
    });
    return runFault(
      'cluster',
      `PostgreSQL restarted (stop, ${STORE_DOWN_MS / 1000} s down, start) under calls`,
      { scale: 1, via: 'edge', edge: cluster },
      async (s): Promise<Injection> => {
        const c = cluster.current;
        const delivered = timedDeliveries(s);
        const probe = timedCommands(s);
        const pidBefore = pg().pid;
        const printed = c.instances.map((e) => e.output().length);
        const stoppedAt = Date.now();
        const drops = s.tunnelDrops;
        const tunnelSeen: string[] = [];
        const off = s.agent.tunnel!.onStatus((st) => tunnelSeen.push(`${secs(Date.now() - stoppedAt)} ${st}`));
        const took = await c.restartStore(STORE_DOWN_MS);
        storeWas = { stoppedAt, upAt: Date.now() };
        const upAt = Date.now();
        const pidAfter = pg().pid;
        const waiting = s.backlog();
        const generatedAtUp = s.generated();
        const deliveredAtUp = s.tally.delivered;
        await until(() => s.tally.delivered >= generatedAtUp, `the ${generatedAtUp} events spooled while it was down delivered`, 30_000);
        const caughtUpAt = Date.now();
        storeCommands = await probe.stop();
        off();
        process.stderr.write(`agent tunnel (s after the stop): ${tunnelSeen.join(', ')}\n`);
        const failed = storeCommands.filter((r) => r.status !== 200);
        // What each edge printed of the outage: the store's errors it logged (warn or error).
        const complained = c.instances.filter((e, i) => e.output().slice(printed[i]).split('\n').some((l) => LOG_ERROR.test(l))).length;
        const whileDown = delivered.filter((t) => t > stoppedAt + 100 && t < upAt).length;
        const firstAfter = delivered.find((t) => t >= upAt);
        return {
          count: () => (pidBefore !== 0 && pidAfter !== 0 && pidAfter !== pidBefore ? 1 : 0),
          what: 'PostgreSQL restarts',
          detail: () =>
            `down ${secs(upAt - stoppedAt)} s (stop ${secs(took.stopMs)} s, start ${secs(took.startMs)} s), postmaster ${pidBefore} then ${pidAfter}; edges that logged it: ${complained} of ${c.instances.length}; tunnel drops seen by the agent: ${s.tunnelDrops - drops}; ` +
            `webhooks accepted while it was down: ${whileDown}; first after it was back ${firstAfter === undefined ? 'never' : `${secs(firstAfter - upAt)} s`} after; ` +
            `everything spooled by then delivered ${secs(caughtUpAt - upAt)} s after; events delivered since it was back: ${s.tally.delivered - deliveredAtUp}; ` +
            `commands failed: ${failed.length} of ${storeCommands.length} (${[...new Set(failed.map((r) => r.status))].join(', ') || 'none'}), the slowest ${secs(Math.max(0, ...storeCommands.map((r) => r.ms)))} s`,
          waiting,
          note: `each edge with --lease ${LEASE_SEC} (default 6), so ${STORE_DOWN_MS / 1000} s down is longer than a lease: the edges stop delivering (fenced) and must take up again; fast shutdown (SIGINT), same datadir; real time`,
        };
      },
    );
  }, 120_000);
});

