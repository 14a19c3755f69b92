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
