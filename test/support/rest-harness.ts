import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import type { OperationName, OperationParams } from '../../shared/api/operations.ts';
import type { OperationBody } from '../../shared/api/responses.ts';
import type { Device, FileStream, RunOptions } from '../../shared/device.ts';
import { ApiError } from '../../shared/errors.ts';

export interface RecordedCall {
  op: OperationName;
  params: Record<string, string>;
  options: RunOptions | undefined;
}

/** A Device that records what the routes hand it; answers are scripted per test, any JSON the routes must pass on. */
export class RecordingDevice implements Device {
  calls: RecordedCall[] = [];
  recordingPaths: string[] = [];
  answer: (call: RecordedCall) => Promise<unknown> = async ({ op }) => ({ status: 'success', message: `ran ${op}` });
  recordings: (relPath: string, range: string | undefined) => Promise<FileStream> = async () => {
    throw new ApiError('NOT_FOUND', 'no recordings here');
  };

  run<N extends OperationName>(op: N, params: OperationParams<N>, options?: RunOptions): Promise<OperationBody<N>> {
    const call = { op, params: { ...(params as Record<string, string>) }, options };
    this.calls.push(call);
    return this.answer(call) as Promise<OperationBody<N>>;
  }

  openRecording(relPath: string, range: string | undefined): Promise<FileStream> {
    this.recordingPaths.push(relPath);
    return this.recordings(relPath, range);
  }
}

export interface Served {
  port: number;
  close(): Promise<void>;
}

/** Serves a Hono app over real HTTP on 127.0.0.1, port 0. */
export function serveApp(app: Hono): Promise<Served> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            if ('closeAllConnections' in server) server.closeAllConnections();
          }),
      });
    });
  });
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
  json(): unknown;
}

/** An HTTP request with the path sent exactly as given: fetch would resolve `..` before sending. */
export function rawRequest(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string | Buffer,
): Promise<RawResponse> {
  // Node sends a DELETE body neither chunked nor with a length unless told the length.
  const sized = body === undefined ? headers : { 'content-length': String(Buffer.byteLength(body)), ...headers };
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: sized, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        const text = buf.toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: buf, text, json: () => JSON.parse(text) });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** One valid set of parameters per operation: the base every bad-input test mutates one field of. */
export const VALID_PARAMS: Record<OperationName, Record<string, string>> = {
  'current-calls': {},
  'extension-status': {},
  'extension-hints-status': {},
  'queue-info': {},
  'agent-pause': { queue: '630', member: '808', state: 'on' },
  'agent-login': { extension: '808', queue: '630' },
  'agent-logout': { extension: '808', queue: '630' },
  'click-number': { src: '808', dst: '+8613800138000' },
  hangup: { extension: '808' },
  transfer: { src: '808', dst: '809' },
  'exten-spy': { src: '808', dst: '809' },
  'blacklist-index': {},
  'blacklist-create': { number: '13800138000' },
  'blacklist-delete': { number: '13800138000' },
};
