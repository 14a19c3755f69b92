import { getRequestListener } from '@hono/node-server';
import { mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { systemClock, type Clock } from '../../shared/clock.ts';
import { errorAnswer } from '../../shared/api/error-answer.ts';
import { CloseCode } from '../../shared/tunnel/close-codes.ts';
import { MAX_TEXT_FRAME } from '../../shared/tunnel/frames.ts';
import { createEdgeApp, DEFAULT_EDGE_RATE_LIMITS, type EdgeRateLimits } from '../core/app.ts';
import { EdgeDeliveries } from '../core/deliveries.ts';
import { Hub } from '../core/hub.ts';
import { KEEP_DELIVERED_MS } from '../core/retention.ts';
import type { EdgeStore } from '../core/store.ts';
import { createNodeSigner } from './hmac-signer.ts';
import { createHttpPost } from '../../shared/node/http-post.ts';
import type { WebhookFetch } from '../../shared/delivery/webhook-fetch.ts';
import { createPgCluster } from './pg-cluster.ts';
import { openPgStore, type PgStore } from './pg-store.ts';
import { openSqliteStore } from './sqlite-store.ts';

export interface EdgeServerOptions {
  port: number;
  host: string;
  /** Folder of edge.sqlite; created when missing. Not used with `databaseUrl`. */
  dataDir?: string;
  /** `postgres://...`: the store is this PostgreSQL database, shared with other edges, instead of SQLite. */
  databaseUrl?: string;
  /** With `databaseUrl`: how long to wait for PostgreSQL at start (ms; 60 s). */
  databaseWaitMs?: number;
  /**
   * With `databaseUrl`: the URL the other edges reach this one at (they forward a device's requests
   * to the edge holding its tunnel). Default: http://<host>:<port>, or the machine's hostname when
   * listening on all addresses.
   */
  advertiseUrl?: string;
  /** With `databaseUrl`: how long an edge may go unheard before its devices move (ms; 6 s). */
  clusterLeaseMs?: number;
  adminKey: string | undefined;
  log(entry: Record<string, unknown>): void;
  clock?: Clock;
  commandTimeoutMs?: number;
  heartbeatMs?: number;
  corsOrigins?: readonly string[];
  rateLimits?: EdgeRateLimits;
  /** For tests: how long delivered events stay replayable (default KEEP_DELIVERED_MS, 7 days). */
  keepDeliveredMs?: number;
  /** For tests: where webhooks go out through. */
  fetch?: WebhookFetch;
}

export interface EdgeServer {
  url: string;
  port: number;
  /** Where the state is, for the start line: `data in ./data, SQLite through node:sqlite` or `PostgreSQL 15.18 at host:5432/edge`. */
  store: string;
  close(): Promise<void>;
}

const TUNNEL_PATH = '/agent/tunnel';
/** How often the Node edge prunes delivered events past their retention (it is awake anyway). */
const PRUNE_EVERY_MS = 3600_000;

/** The state of the edge: one SQLite file, or a PostgreSQL database when a URL is given. */
async function openStore(opts: EdgeServerOptions): Promise<{ store: EdgeStore & { close(): void | Promise<void> }; where: string; pg?: PgStore }> {
  if (opts.databaseUrl) {
    const store = await openPgStore(opts.databaseUrl, { log: opts.log, ...(opts.databaseWaitMs !== undefined ? { waitMs: opts.databaseWaitMs } : {}) });
    return { store, where: store.describe(), pg: store };
  }
  if (!opts.dataDir) throw new Error('the edge needs a data folder (SQLite) or a PostgreSQL URL');
  mkdirSync(opts.dataDir, { recursive: true });
  const store = openSqliteStore(join(opts.dataDir, 'edge.sqlite'));
  return { store, where: `data in ${opts.dataDir}, SQLite through ${store.engine}` };
}

/** The Node edge: the core app over node:http, the tunnel over `ws`, state in <data>/edge.sqlite or PostgreSQL. */
export async function startEdgeServer(opts: EdgeServerOptions): Promise<EdgeServer> {
  const clock = opts.clock ?? systemClock;
  const { log } = opts;
  const { store, where, pg } = await openStore(opts);
  const hub = new Hub({ clock, log });
  // On PostgreSQL the edge is one of possibly several: devices are homed, and keys counted, across them.
  const cluster =
    pg &&
    createPgCluster({
      sql: pg.sql,
      hub,
      log,
      perKey: opts.rateLimits?.perKey ?? DEFAULT_EDGE_RATE_LIMITS.perKey,
      ...(opts.clusterLeaseMs ? { leaseMs: opts.clusterLeaseMs } : {}),
    });
  const deliveries = new EdgeDeliveries({
    store,
    hub,
    clock,
    log,
    fetch: opts.fetch ?? createHttpPost(),
    createSigner: createNodeSigner,
    ...(cluster ? { delivers: (mac: string) => cluster.member.delivers(mac) } : {}),
  });
  const edge = createEdgeApp({
    store,
    hub,
    clock,
    adminKey: opts.adminKey,
    log,
    deliveries,
    ...(cluster ? { cluster: cluster.member, keyLimit: cluster.keyLimit } : {}),
    ...(opts.commandTimeoutMs ? { commandTimeoutMs: opts.commandTimeoutMs } : {}),
    ...(opts.heartbeatMs ? { heartbeatMs: opts.heartbeatMs } : {}),
    ...(opts.corsOrigins ? { corsOrigins: opts.corsOrigins } : {}),
    ...(opts.rateLimits ? { rateLimits: opts.rateLimits } : {}),
  });

  const server = createServer(getRequestListener(edge.app.fetch));
  // Frames up to the protocol's text limit plus a binary chunk header; anything larger is refused by ws.
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_TEXT_FRAME + 1024, perMessageDeflate: false });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    void acceptUpgrade(req, socket, head);
  });

  // Set when close() begins: a tunnel let in after that would hold the closing server open.
  let closing = false;

  async function acceptUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path !== TUNNEL_PATH) return refuse(socket, 404, 'no WebSocket here; agents connect to /agent/tunnel');
    let mac: string;
    try {
      const headers = new Headers();
      for (const name of ['authorization', 'x-device-mac']) {
        const v = req.headers[name];
        if (typeof v === 'string') headers.set(name, v);
      }
      mac = await edge.authorizeTunnel(headers);
    } catch (e) {
      const refused = errorAnswer(e, { log, requestId: crypto.randomUUID(), where: { path: TUNNEL_PATH } });
      log({ level: 'warn', msg: 'tunnel refused', mac: req.headers['x-device-mac'], status: refused.status, reason: refused.body.message });
      return refuse(socket, refused.status, refused.body.message);
    }
    if (closing) return refuse(socket, 503, 'edge shutting down; connect again');
    wss.handleUpgrade(req, socket, head, (ws) => bind(ws, mac));
  }

  function bind(ws: WebSocket, mac: string): void {
    const session = edge.openTunnel(mac, {
      send: (data) => ws.send(data),
      close: (code, reason) => ws.close(code, reason),
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) session.receiveBinary(data);
      else session.receiveText(data.toString('utf8'));
    });
    ws.on('close', (code: number, reason: Buffer) => session.closed(code, reason.toString('utf8')));
    ws.on('error', (e: Error) => log({ level: 'warn', msg: 'tunnel socket error', mac, error: e.message }));
  }

  const keepDeliveredMs = opts.keepDeliveredMs ?? KEEP_DELIVERED_MS;
  const prune = setInterval(() => {
    store.pruneDelivered(clock.now() - keepDeliveredMs).catch((e: unknown) => log({ level: 'error', msg: 'prune failed', error: String(e) }));
  }, Math.min(PRUNE_EVERY_MS, keepDeliveredMs));
  prune.unref();

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => resolve());
    });
  } catch (e) {
    clearInterval(prune);
    await store.close();
    throw e;
  }
  const port = (server.address() as AddressInfo).port;
  const url = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;

  if (cluster) {
    const wildcard = opts.host === '0.0.0.0' || opts.host === '::';
    cluster.self.url = opts.advertiseUrl?.replace(/\/+$/, '') ?? (wildcard ? `http://${hostname()}:${port}` : url);
    // Devices whose events waited while no edge was up are taken by the first beat.
    await cluster.member.start(deliveries);
    log({ msg: 'cluster: joined', instance: cluster.self.id, url: cluster.self.url });
  } else {
    // Devices whose events waited while the edge was down: deliver to the admin URL right away
    // (a URL known only from the box's hello waits for its next hello).
    for (const d of await store.listDevices()) void deliveries.kick(d.mac);
  }

  return {
    url,
    port,
    store: where,
    async close() {
      closing = true;
      clearInterval(prune);
      // Stop listening first: an agent that reconnects while deliveries wind down must find
      // another edge, not this one (its tunnel would keep the server from ever closing).
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      hub.closeAll(CloseCode.GOING_AWAY, 'edge shutting down');
      for (const ws of wss.clients) ws.terminate();
      await deliveries.closeAll();
      server.closeAllConnections();
      await stopped;
      wss.close();
      await cluster?.member.close();
      await store.close();
    },
  };
}

const REASONS: Record<number, string> = { 401: 'Unauthorized', 404: 'Not Found', 503: 'Service Unavailable' };

function refuse(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ status: 'error', message });
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
