import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../shared/clock.ts';
import { TunnelClient, type TunnelOutbox, type TunnelStatus } from '../../agent/tunnel/client.ts';
import { wsConnect } from '../../agent/tunnel/ws-connect.ts';
import type { OperationName, OperationParams } from '../../shared/api/operations.ts';
import type { OperationBody } from '../../shared/api/responses.ts';
import type { Device, FileStream } from '../../shared/device.ts';
import { ApiError } from '../../shared/errors.ts';
import { parseRange } from '../../shared/http/range.ts';
import type { RateLimit } from '../../shared/http/rate-limit.ts';
import type { OutboxEvent } from '../../shared/tunnel/frames.ts';
import { startEdgeServer, type EdgeServer, type EdgeServerOptions } from '../../edge/node/server.ts';
import type { Received } from './route-answers.ts';
import { sampleAnswer } from './sample-answers.ts';

export const ADMIN_KEY = 'test-admin-key';

/** A token bucket that lets `n` requests through at once, then next to nothing for the length of a test. */
export const passThenRefuse = (n: number): RateLimit => ({ perSecond: 0.001, burst: n });

/** A temp data folder that outlives edge restarts within one test. */
export function tempDataDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'coocenter-edge-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function startEdge(dataDir: string, extra: Partial<EdgeServerOptions> = {}): Promise<EdgeServer & { logs: Record<string, unknown>[] }> {
  const logs: Record<string, unknown>[] = [];
  // `t` (epoch ms) lines the edge's log up with the test's own timeline when a case fails.
  const server = await startEdgeServer({ port: 0, host: '127.0.0.1', dataDir, adminKey: ADMIN_KEY, log: (e) => logs.push({ t: Date.now(), ...e }), ...extra });
  return Object.assign(server, { logs });
}

let recording: Received[] | null = null;

/** From now on every answer `call` gets is also kept in the returned list (the contract holds them to the routes' specs). */
export function recordAnswers(): Received[] {
  recording = [];
  return recording;
}

export async function call(url: string, init: RequestInit & { json?: unknown } = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const { json, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (json !== undefined) headers.set('content-type', 'application/json');
  const res = await fetch(url, { ...rest, headers, ...(json !== undefined ? { body: JSON.stringify(json) } : {}) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: kept as text
  }
  recording?.push({ method: (rest.method ?? 'GET').toUpperCase(), url, status: res.status, contentType: res.headers.get('content-type'), body });
  return { status: res.status, body, headers: res.headers };
}

export const admin = (edge: { url: string }, method: string, path: string, json?: unknown) =>
  call(`${edge.url}${path}`, { method, headers: { authorization: `Bearer ${ADMIN_KEY}` }, ...(json !== undefined ? { json } : {}) });

/** Creates a tenant and registers `mac` under it; returns the secrets shown once. */
export async function provision(edge: { url: string }, mac: string, settings: Record<string, unknown> = {}, tenant?: { id: string; key: string }) {
  const t = tenant ?? (await admin(edge, 'POST', '/admin/tenants', { name: `tenant of ${mac}` })).body;
  const d = await admin(edge, 'PUT', `/admin/devices/${mac}`, { tenant: t.id, ...settings });
  if (d.status !== 201) throw new Error(`provision failed: ${d.status} ${JSON.stringify(d.body)}`);
  return { tenantId: t.id as string, tenantKey: t.key as string, token: d.body.token as string, webhookSecret: d.body.webhookSecret as string };
}

/** The agent's outbox in memory: what the tunnel client needs, and nothing durable. */
export class MemoryOutbox implements TunnelOutbox {
  readonly entries: OutboxEvent[] = [];
  private acked = -1;
  private readonly listeners = new Set<() => void>();
  constructor(readonly epoch = 'epoch-1') {}
  append(type: string, body: unknown): void {
    this.entries.push({ seq: this.entries.length, type, body: JSON.stringify(body) });
    for (const l of this.listeners) l();
  }
  async readAfter(after: number, max: number) {
    return this.entries.filter((e) => e.seq > after && e.seq > this.acked).slice(0, max);
  }
  async ack(seq: number) {
    this.acked = Math.max(this.acked, seq);
  }
  get ackedUpTo(): number {
    return this.acked;
  }
  state() {
    return { epoch: this.epoch, firstUnacked: this.acked + 1, nextSeq: this.entries.length, dropped: 0 };
  }
  stats() {
    const waiting = this.entries.length - 1 - this.acked;
    return { epoch: this.epoch, oldestSeq: waiting > 0 ? this.acked + 1 : null, nextSeq: this.entries.length };
  }
  onAppend(listener: () => void) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** A device whose answers (documented bodies: test/support/sample-answers.ts) and recordings the test controls. */
export class ScriptedDevice implements Device {
  /** Commands that reached the device, in order. */
  readonly calls: { op: string; params: unknown }[] = [];
  /** Holds an op until the promise settles, ignoring aborts: a stuck agent. */
  hold: Partial<Record<OperationName, Promise<void>>> = {};
  recordingSize = 0;

  async run<N extends OperationName>(op: N, params: OperationParams<N>): Promise<OperationBody<N>> {
    this.calls.push({ op, params });
    await this.hold[op];
    if (op === 'hangup') throw new ApiError('CONFLICT', `extension ${(params as { extension: string }).extension} has no live call`);
    return sampleAnswer(op, params);
  }

  async openRecording(relPath: string, range: string | undefined): Promise<FileStream> {
    if (relPath !== 'big.wav') throw new ApiError('NOT_FOUND', `no recording ${relPath}`);
    const size = this.recordingSize;
    const r = parseRange(range, size);
    const start = r.kind === 'partial' ? r.range.start : 0;
    const end = r.kind === 'partial' ? r.range.end : size - 1;
    let pos = start;
    // Byte i of the file is i % 251: any lost, doubled or reordered chunk shows.
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pos > end) return controller.close();
        const n = Math.min(256 * 1024, end - pos + 1);
        const chunk = new Uint8Array(n);
        for (let i = 0; i < n; i++) chunk[i] = (pos + i) % 251;
        pos += n;
        controller.enqueue(chunk);
      },
    });
    return { size, contentType: 'audio/wav', ...(r.kind === 'partial' ? { range: r.range } : {}), body };
  }
}

export interface TestAgent {
  client: TunnelClient;
  /** Every status change, with when it happened (epoch ms). */
  statuses: { status: TunnelStatus; reason?: string; t: number }[];
  waitFor(status: TunnelStatus): Promise<void>;
}

export function startAgent(edge: { url: string }, o: { mac: string; token: string; device: Device; outbox: MemoryOutbox; webkeyDigests?: string[]; url?: string | null; asteriskVersion?: string }): TestAgent {
  const statuses: TestAgent['statuses'] = [];
  const client = new TunnelClient({
    url: `${edge.url.replace(/^http/, 'ws')}/agent/tunnel`,
    token: o.token,
    mac: o.mac,
    connect: wsConnect,
    device: o.device,
    outbox: o.outbox,
    clock: systemClock,
    retryStrategy: () => 50,
    hello: () => ({
      agentVersion: 'test-agent',
      timeZone: 'UTC',
      driver: 'sip',
      url: o.url ?? null,
      popUrl: null,
      wrapup: { enabled: false, seconds: 30 },
      ami: 'ready',
      asteriskVersion: o.asteriskVersion ?? '20.20.1',
      webkeyDigests: o.webkeyDigests ?? [],
      outbox: o.outbox.state(),
      gaps: [],
    }),
  });
  client.onStatus((status, reason) => statuses.push({ status, ...(reason ? { reason } : {}), t: Date.now() }));
  const waitFor = (status: TunnelStatus) =>
    new Promise<void>((resolve) => {
      if (client.status === status) return resolve();
      const off = client.onStatus((s) => {
        if (s === status) {
          off();
          resolve();
        }
      });
    });
  client.start();
  return { client, statuses, waitFor };
}

/** Polls a condition without sleeping a fixed time; fails after `ms`. */
export { until } from './wait.ts';
