import { z } from 'zod';
import { ToolbarEvent } from '../toolbar/events.ts';
import { EVENT_ID_PATTERN } from '../delivery/signature.ts';

/**
 * The tunnel between agent and edge: JSON text frames described once here, parsed on both sides
 * before they are trusted, and binary frames for recording bytes (shared/tunnel/binary.ts).
 *
 * agent -> edge: hello, status, evt, res, file, eof, live, ping
 * edge -> agent: welcome, cmd, ack, open, credit, cancel, pong
 */
export const PROTOCOL_VERSION = 1;

/**
 * Heartbeats are fixed strings so the Workers edge can answer them with setWebSocketAutoResponse,
 * which matches the request byte for byte and never wakes a hibernated Durable Object.
 */
export const HEARTBEAT_PING = '{"t":"ping"}';
export const HEARTBEAT_PONG = '{"t":"pong"}';

const mac = z.string().regex(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
const id = z.number().int().nonnegative().max(0xffffffff);
const digest = z.string().regex(/^[0-9a-f]{32}$/);
const shortText = z.string().max(512);

export const amiState = z.enum(['connecting', 'authenticating', 'ready', 'reconnecting', 'closed', 'idle']);

export const outboxState = z.object({
  epoch: z.string().max(64),
  /** Oldest sequence number not yet acknowledged by the edge, and the next one to be written. */
  firstUnacked: z.number().int().nonnegative(),
  nextSeq: z.number().int().nonnegative(),
  dropped: z.number().int().nonnegative(),
});

/** What the backfill after a gap recovered from the box's own records (agent/backfill). */
export const gapBackfill = z.object({
  state: z.enum(['running', 'filled', 'partial', 'skipped', 'none', 'failed']),
  cdr: z.number().int().nonnegative(),
  ccCdr: z.number().int().nonnegative(),
  detail: z.string().max(2000),
});

export const gap = z.object({ from: z.number(), to: z.number().nullable(), backfill: gapBackfill.optional() });

const status = {
  ami: amiState,
  asteriskVersion: shortText.optional(),
  /** md5(WEBKEY + date) for the box's yesterday, today and tomorrow; empty when WEBKEY is unset. */
  webkeyDigests: z.array(digest).max(3),
  outbox: outboxState,
  /** Recent intervals when the agent could not read AMI (epoch ms); `to` null while still down. */
  gaps: z.array(gap).max(100),
};

export const helloFrame = z.object({
  t: z.literal('hello'),
  v: z.number().int(),
  mac,
  agentVersion: shortText,
  /** Node version and build (`node v26.12.1 (single executable) linux-x64`); absent from older agents. */
  runtime: shortText.optional(),
  timeZone: shortText,
  driver: z.enum(['sip', 'pjsip']).nullable(),
  /** The box's own push URL from api.conf; the edge's admin setting wins over it. */
  url: z.string().max(2048).nullable(),
  popUrl: z.string().max(2048).nullable(),
  wrapup: z.object({ enabled: z.boolean(), seconds: z.number().int().nonnegative() }),
  ...status,
});

export const statusFrame = z.object({
  t: z.literal('status'),
  ...status,
  /** Known once AMI answered after the hello (the tunnel comes up before AMI, to drain the outbox). */
  driver: z.enum(['sip', 'pjsip']).optional(),
});

export const welcomeFrame = z.object({
  t: z.literal('welcome'),
  v: z.number().int(),
  /** Highest sequence the edge has committed for this epoch (-1: none); the agent resends after it. */
  committed: z.object({ epoch: z.string().max(64), seq: z.number().int() }).nullable(),
  heartbeatMs: z.number().int().positive(),
});

export const outboxEvent = z.object({
  seq: z.number().int().nonnegative(),
  /** Documented event name (dialbegein, cdr, cc_cdr ...) so the edge can filter without parsing. */
  type: z.string().max(64),
  /** The event's JSON text exactly as it will be POSTed and signed. */
  body: z.string().max(64 * 1024),
  /** Its own webhook-id part, for a call backfilled from the box's records (QueueEntry.id). */
  id: z.string().regex(EVENT_ID_PATTERN).optional(),
});

export const evtFrame = z.object({
  t: z.literal('evt'),
  epoch: z.string().max(64),
  events: z.array(outboxEvent).min(1).max(1000),
});

export const ackFrame = z.object({ t: z.literal('ack'), epoch: z.string().max(64), seq: z.number().int().nonnegative() });

export const cmdFrame = z.object({
  t: z.literal('cmd'),
  id,
  op: z.string().max(64),
  params: z.record(z.string().max(64), z.string().max(1024)),
  idempotencyKey: z.string().max(256).optional(),
  /** Milliseconds the edge will wait; the agent gives up on AMI before that. */
  timeoutMs: z.number().int().positive().max(120_000),
});

export const apiErrorJson = z.object({
  code: z.string().max(64),
  message: z.string().max(2048),
  field: z.string().max(64).optional(),
});

export const resFrame = z.discriminatedUnion('ok', [
  z.object({ t: z.literal('res'), id, ok: z.literal(true), body: z.unknown() }),
  z.object({ t: z.literal('res'), id, ok: z.literal(false), error: apiErrorJson }),
]);

/** Edge asks for a recording; the agent answers `file` then binary chunks then `eof`, or a failed `res`. */
export const openFrame = z.object({
  t: z.literal('open'),
  id,
  path: z.string().max(4096),
  range: z.string().max(256).optional(),
  /** Bytes the agent may send before waiting for more credit (flow control). */
  credit: z.number().int().positive(),
});

export const fileFrame = z.object({
  t: z.literal('file'),
  id,
  size: z.number().int().nonnegative(),
  contentType: z.string().max(128),
  range: z.object({ start: z.number().int().nonnegative(), end: z.number().int().nonnegative() }).optional(),
});

export const creditFrame = z.object({ t: z.literal('credit'), id, bytes: z.number().int().positive() });
export const eofFrame = z.object({ t: z.literal('eof'), id });
export const cancelFrame = z.object({ t: z.literal('cancel'), id });
/**
 * Toolbar-only live state (pauses, queue log in and out, ringing, wrap-up): best effort for the
 * pages open right now, so not spooled, not acknowledged, never sent to the customer's webhook.
 */
export const liveFrame = z.object({ t: z.literal('live'), events: z.array(ToolbarEvent).min(1).max(100) });
export const pingFrame = z.object({ t: z.literal('ping') });
export const pongFrame = z.object({ t: z.literal('pong') });

export const agentFrame = z.discriminatedUnion('t', [helloFrame, statusFrame, evtFrame, resFrame, fileFrame, eofFrame, liveFrame, pingFrame]);
export const edgeFrame = z.discriminatedUnion('t', [welcomeFrame, cmdFrame, ackFrame, openFrame, creditFrame, cancelFrame, pongFrame]);

export type HelloFrame = z.infer<typeof helloFrame>;
export type StatusFrame = z.infer<typeof statusFrame>;
export type WelcomeFrame = z.infer<typeof welcomeFrame>;
export type EvtFrame = z.infer<typeof evtFrame>;
export type AckFrame = z.infer<typeof ackFrame>;
export type CmdFrame = z.infer<typeof cmdFrame>;
export type ResFrame = z.infer<typeof resFrame>;
export type OpenFrame = z.infer<typeof openFrame>;
export type FileFrame = z.infer<typeof fileFrame>;
export type LiveFrame = z.infer<typeof liveFrame>;
export type AgentFrame = z.infer<typeof agentFrame>;
export type EdgeFrame = z.infer<typeof edgeFrame>;
export type OutboxEvent = z.infer<typeof outboxEvent>;

/** Largest text frame either side accepts; bigger is a protocol violation, not a buffer to grow. */
export const MAX_TEXT_FRAME = 8 * 1024 * 1024;

export class FrameError extends Error {
  readonly code = 'BAD_FRAME';
}

function parseWith<T>(schema: z.ZodType<T>, text: string): T {
  if (text.length > MAX_TEXT_FRAME) throw new FrameError(`frame of ${text.length} bytes exceeds ${MAX_TEXT_FRAME}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new FrameError('frame is not JSON');
  }
  const r = schema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new FrameError(`invalid frame: ${issue ? `${issue.path.join('.') || '(root)'} ${issue.message}` : 'unknown'}`);
  }
  return r.data;
}

/** Parses what the edge received from an agent; throws FrameError on anything malformed. */
export const parseAgentFrame = (text: string): AgentFrame => parseWith(agentFrame, text);
/** Parses what the agent received from the edge; throws FrameError on anything malformed. */
export const parseEdgeFrame = (text: string): EdgeFrame => parseWith(edgeFrame, text);

export const encodeFrame = (frame: AgentFrame | EdgeFrame): string => JSON.stringify(frame);
