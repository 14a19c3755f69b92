/**
 * The parts of the Workers runtime this edge uses, typed here so the project typechecks with Node's
 * lib (workers-types would clash with it). Names and shapes follow the Cloudflare docs.
 */
export interface SqlCursor<T> {
  toArray(): T[];
  readonly rowsWritten: number;
}

export interface SqlStorage {
  exec<T = Record<string, string | number | null>>(query: string, ...bindings: (string | number | null)[]): SqlCursor<T>;
}

export interface DurableObjectStorage {
  readonly sql: SqlStorage;
  transactionSync<T>(fn: () => T): T;
  setAlarm(scheduledTime: number): Promise<void>;
}

/** A server-side WebSocket as the Hibernation API hands it back. */
export interface HibernatableWebSocket {
  send(data: string | ArrayBuffer | Uint8Array): void;
  close(code?: number, reason?: string): void;
  serializeAttachment(value: unknown): void;
  deserializeAttachment(): unknown;
}

export interface DurableObjectState {
  readonly storage: DurableObjectStorage;
  acceptWebSocket(ws: HibernatableWebSocket, tags?: string[]): void;
  getWebSockets(tag?: string): HibernatableWebSocket[];
  setWebSocketAutoResponse(pair: unknown): void;
  getWebSocketAutoResponseTimestamp(ws: HibernatableWebSocket): Date | null;
  /** Resets the object: in-memory state and its WebSockets are gone, storage stays. */
  abort(reason?: string): void;
}

export interface DurableObjectStub {
  fetch(input: Request | string, init?: RequestInit): Promise<Response>;
}

export interface DurableObjectNamespace {
  idFromName(name: string): unknown;
  get(id: unknown): DurableObjectStub;
}

export interface Env {
  DEVICES: DurableObjectNamespace;
  REGISTRY: DurableObjectNamespace;
  /** Secret (`wrangler secret put COOCENTER_ADMIN_KEY`); without it the admin API is disabled. */
  COOCENTER_ADMIN_KEY?: string;
  /** Vars: milliseconds, as strings. */
  COMMAND_TIMEOUT_MS?: string;
  HEARTBEAT_MS?: string;
  /** Comma-separated origins allowed to call the device API from a browser. */
  CORS_ORIGINS?: string;
  /**
   * Device API requests per Authorization value, counted across every device object by the Worker
   * in front of them (edge/workers/key-limit.ts): the `[[ratelimits]]` binding of wrangler.toml.
   */
  KEY_RATE_LIMIT?: RateLimitBinding;
  /** Device API request limits, `<per second>/<burst>` (edge/workers/rate-limit-vars.ts). */
  RATE_LIMIT_PER_KEY?: string;
  RATE_LIMIT_PER_DEVICE?: string;
  /** Tests only: milliseconds delivered events stay replayable (default 7 days, edge/core/retention.ts). */
  KEEP_DELIVERED_MS?: string;
  /** Tests only: the webhook retry schedule's waits are multiplied by this (0.01: the 5-minute step takes 3 s). */
  RETRY_SCALE?: string;
}

/** Cloudflare's Rate Limiting binding: counts calls per key within a fixed period, per location. */
export interface RateLimitBinding {
  limit(options: { key: string }): Promise<{ success: boolean }>;
}

/** Runtime globals of workerd that Node's lib does not declare. */
interface WorkerdGlobals {
  WebSocketPair: new () => { 0: HibernatableWebSocket; 1: HibernatableWebSocket };
  WebSocketRequestResponsePair: new (request: string, response: string) => unknown;
  FixedLengthStream: new (length: number) => TransformStream<Uint8Array, Uint8Array>;
}
export const workerd = globalThis as unknown as WorkerdGlobals;

/** A 101 response handing the client end of a WebSocketPair to the runtime. */
export const upgradeResponse = (client: HibernatableWebSocket): Response =>
  new Response(null, { status: 101, webSocket: client } as ResponseInit);

/**
 * workerd sends a streamed body chunked and drops its Content-Length unless the stream says how long
 * it is; a recording's length matters to players (seek, progress), so it is kept.
 */
export function keepContentLength(res: Response): Response {
  const length = Number(res.headers.get('content-length'));
  if (!res.body || !Number.isInteger(length) || length <= 0) return res;
  const sized = new workerd.FixedLengthStream(length);
  res.body.pipeTo(sized.writable).catch(() => {});
  return new Response(sized.readable, res);
}
