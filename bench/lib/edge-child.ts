import { constants, monitorEventLoopDelay, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { startEdgeServer } from '../../edge/node/server.ts';

/**
 * The Node edge as its bin wires it, with the per-device and per-key request limits raised: a relay
 * bench sends 1k requests/s to one device, 20x the default limit, and measures the relay, not the
 * limiter. argv: <data dir> [postgres:// URL: keep the state there instead, as one of a cluster].
 */
const dataDir = process.argv[2];
const databaseUrl = process.argv[3];
if (!dataDir) throw new Error('usage: edge-child.ts <data dir> [postgres URL]');
const unlimited = { perSecond: 1e6, burst: 1e6 };
const server = await startEdgeServer({
  port: 0,
  host: '127.0.0.1',
  ...(databaseUrl ? { databaseUrl } : { dataDir }),
  adminKey: process.env.COOCENTER_ADMIN_KEY,
  log: () => {},
  rateLimits: { perKey: unlimited, perDevice: unlimited },
});
process.stdout.write(`edge listening on ${server.url}\n`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));

// Where the tail comes from: on SIGUSR2 the child prints how late its event loop ran and how long
// GC held it since the last SIGUSR2, so a bench can set a latency tail beside the edge's stalls.
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
const gc: { ms: number; major: boolean }[] = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gc.push({ ms: e.duration, major: (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR });
}).observe({ entryTypes: ['gc'] });
process.on('SIGUSR2', () => {
  const ms = (ns: number) => ns / 1e6;
  // Each sample is one timer turn; a stall shows as one late sample, so this counts stalls.
  let over10 = 0;
  for (const [pct, ns] of loop.percentiles) if (ns > 10e6) over10 = Math.max(over10, 100 - pct);
  const stats = {
    loopP99: ms(loop.percentile(99)),
    loopMax: ms(loop.max),
    stallsOver10ms: Math.round((over10 / 100) * loop.count),
    gcCount: gc.length,
    gcMs: gc.reduce((a, b) => a + b.ms, 0),
    gcMax: Math.max(0, ...gc.map((g) => g.ms)),
    majorGcCount: gc.filter((g) => g.major).length,
    majorGcMax: Math.max(0, ...gc.filter((g) => g.major).map((g) => g.ms)),
  };
  loop.reset();
  gc.length = 0;
  process.stdout.write(`loop ${JSON.stringify(stats)}\n`);
});
