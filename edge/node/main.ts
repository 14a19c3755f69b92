import { parseArgs } from 'node:util';
import { startEdgeServer } from './server.ts';

const HELP = `coocenter-edge: serves the coocenter-api of many PBXs at /devices/{mac}/coocenter-api

usage: coocenter-edge [--port 8787] [--host 127.0.0.1] [--data ./data | --store postgres://...] [--cors https://crm.example.com]

  --port        TCP port (0 picks a free one)              default 8787
  --host        address to listen on                        default 127.0.0.1
  --data        folder of edge.sqlite (tenants, devices, event queue)   default ./data
  --store       postgres://user:password@host:5432/database: keep all of it in PostgreSQL
                instead (several edges may share it); or COOCENTER_DATABASE_URL, which --store wins over
  --store-wait  seconds to wait for PostgreSQL at start before giving up   default 60
  --advertise-url  with --store: the URL the other edges reach this one at (they forward a
                device's requests to the edge holding its tunnel)   default http://<host>:<port>
  --lease       with --store: seconds an edge may go unheard before its devices move   default 6
  --cors        an origin allowed to call the API from a browser (repeatable, * for any)
  --help        this text

The admin key comes from COOCENTER_ADMIN_KEY (without it the admin API is disabled).
Logs are JSON, one object per line, on stdout.`;

const log = (entry: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);

let args;
try {
  args = parseArgs({
    options: {
      port: { type: 'string', default: '8787' },
      host: { type: 'string', default: '127.0.0.1' },
      data: { type: 'string', default: './data' },
      store: { type: 'string' },
      'store-wait': { type: 'string', default: '60' },
      'advertise-url': { type: 'string' },
      lease: { type: 'string', default: '6' },
      cors: { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', default: false },
    },
  }).values;
} catch (e) {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n\n${HELP}\n`);
  process.exit(2);
}
if (args.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}
const port = Number(args.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`--port: expected 0-65535, got ${args.port}\n`);
  process.exit(2);
}
const storeWait = Number(args['store-wait']);
if (!Number.isFinite(storeWait) || storeWait < 0) {
  process.stderr.write(`--store-wait: expected seconds, got ${args['store-wait']}\n`);
  process.exit(2);
}
const lease = Number(args.lease);
if (!(lease >= 1 && lease <= 600)) {
  process.stderr.write(`--lease: expected 1-600 seconds, got ${args.lease}\n`);
  process.exit(2);
}
const advertiseUrl = args['advertise-url'];
if (advertiseUrl !== undefined && !/^https?:\/\/[^/]+\/?$/.test(advertiseUrl)) {
  process.stderr.write(`--advertise-url: expected http://host:port, got ${advertiseUrl}\n`);
  process.exit(2);
}
const databaseUrl = args.store || process.env.COOCENTER_DATABASE_URL || undefined;
if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
  process.stderr.write('--store: expected a postgres:// URL\n');
  process.exit(2);
}
const adminKey = process.env.COOCENTER_ADMIN_KEY || undefined;

let server;
try {
  server = await startEdgeServer({
    port,
    host: args.host,
    ...(databaseUrl
      ? { databaseUrl, databaseWaitMs: storeWait * 1000, clusterLeaseMs: lease * 1000, ...(advertiseUrl ? { advertiseUrl } : {}) }
      : { dataDir: args.data }),
    adminKey,
    log,
    corsOrigins: args.cors,
  });
} catch (e) {
  log({ level: 'error', msg: `edge did not start: ${e instanceof Error ? e.message : String(e)}` });
  process.exit(1);
}
process.stdout.write(`edge listening on ${server.url} (${server.store}, Node ${process.version})\n`);
process.stdout.write(
  adminKey
    ? `create the first tenant: curl -X POST ${server.url}/admin/tenants -H "Authorization: Bearer $COOCENTER_ADMIN_KEY" -H 'Content-Type: application/json' -d '{"name":"acme"}'\n`
    : 'COOCENTER_ADMIN_KEY is not set: the admin API is disabled; set it and restart to create tenants and devices\n',
);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void server.close().then(() => process.exit(0));
  });
}
