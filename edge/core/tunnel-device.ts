import type { Clock } from '../../shared/clock.ts';
import type { OperationName, OperationParams } from '../../shared/api/operations.ts';
import type { OperationBody } from '../../shared/api/responses.ts';
import type { Device, FileStream, RunOptions } from '../../shared/device.ts';
import { ApiError, type ApiErrorCode } from '../../shared/errors.ts';
import { STREAM_WINDOW } from '../../shared/tunnel/binary.ts';
import type { ResFrame } from '../../shared/tunnel/frames.ts';
import type { TunnelSession } from './tunnel-session.ts';

export interface TunnelDeviceOptions {
  clock: Clock;
  /** How long the edge waits for an answer (and, in a file stream, for the next chunk). */
  timeoutMs: number;
}

const failure = (frame: Extract<ResFrame, { ok: false }>) =>
  ApiError.fromJSON({ ...frame.error, code: frame.error.code as ApiErrorCode });

const dropped = (reason: string) =>
  new ApiError(
    'DEVICE_OFFLINE',
    `the device's tunnel closed before it answered (${reason}); the command may or may not have reached the PBX, check before retrying without an Idempotency-Key`,
  );

/**
 * A device as the edge sees it: each command goes down the tunnel as a `cmd` frame and waits, for a
 * bounded time, for its `res`; recordings come up as credit-limited binary chunks, so a large file
 * streams through with at most STREAM_WINDOW bytes in flight or buffered.
 */
export class TunnelDevice implements Device {
  constructor(
    private readonly session: TunnelSession,
    private readonly opts: TunnelDeviceOptions,
  ) {}

  run<N extends OperationName>(op: N, params: OperationParams<N>, options: RunOptions = {}): Promise<OperationBody<N>> {
    const { session } = this;
    const { timeoutMs, clock } = this.opts;
    return new Promise<OperationBody<N>>((resolve, reject) => {
      let settled = false;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        stopTimer();
        options.signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const id = session.begin({
                // The agent's AmiDevice answered it, typed by the same schema (agent/ops/index.ts): the body is
        // relayed as it came, not parsed again, so an edge never refuses what a newer agent answers.
        onRes: (f) => finish(() => (f.ok ? resolve(f.body as OperationBody<N>) : reject(failure(f)))),
        onClosed: (reason) => finish(() => reject(dropped(reason))),
      });
      const stopTimer = clock.setTimer(timeoutMs, () =>
        finish(() => {
          session.end(id, true);
          reject(new ApiError('TIMEOUT', `the device did not answer ${op} within ${timeoutMs / 1000} s; the PBX may be slow or its AMI stuck`));
        }),
      );
      const onAbort = () => finish(() => {
        session.end(id, true);
        reject(new ApiError('TIMEOUT', 'the request was aborted before the device answered'));
      });
      options.signal?.addEventListener('abort', onAbort);
      session.send({
        t: 'cmd',
        id,
        op,
        params: params as Record<string, string>,
        timeoutMs,
        ...(options.idempotencyKey !== undefined ? { idempotencyKey: options.idempotencyKey } : {}),
      });
    });
  }

  openRecording(relPath: string, range: string | undefined, options: { signal?: AbortSignal } = {}): Promise<FileStream> {
    const { session } = this;
    const { timeoutMs, clock } = this.opts;
    const chunks: Uint8Array[] = [];
    let buffered = 0;
    let ended = false;
    let error: ApiError | null = null;
    let wake: (() => void) | null = null;
    const notify = () => {
      const w = wake;
      wake = null;
      w?.();
    };
    const fail = (e: ApiError) => {
      error ??= e;
      notify();
    };

    return new Promise<FileStream>((resolve, reject) => {
      let started = false;
      const stopFirst = clock.setTimer(timeoutMs, () => {
        if (started) return;
        started = true;
        session.end(id, true);
        reject(new ApiError('TIMEOUT', `the device did not start sending ${relPath} within ${timeoutMs / 1000} s`));
      });
      const id = session.begin({
        onRes: (f) => {
          const e = f.ok ? new ApiError('PBX_ERROR', 'the device answered a recording request with a command result') : failure(f);
          if (!started) {
            started = true;
            stopFirst();
            return reject(e);
          }
          fail(e);
        },
        onFile: (f) => {
          if (started) return;
          started = true;
          stopFirst();
          resolve({ size: f.size, contentType: f.contentType, ...(f.range ? { range: f.range } : {}), body });
        },
        onChunk: (payload) => {
          buffered += payload.byteLength;
          // The agent may only send what it was granted; more is a broken agent, not a buffer to grow.
          if (buffered > STREAM_WINDOW) {
            session.end(id, true);
            return fail(new ApiError('PBX_ERROR', 'the device sent more than it was granted; stream stopped'));
          }
          chunks.push(payload);
          notify();
        },
        onEof: () => {
          ended = true;
          notify();
        },
        onClosed: (reason) => {
          if (!started) {
            started = true;
            stopFirst();
            return reject(dropped(reason));
          }
          fail(new ApiError('DEVICE_OFFLINE', `the device's tunnel closed during the transfer (${reason})`));
        },
      });

      let granted = 0;
      const body = new ReadableStream<Uint8Array>(
        {
          pull: async (controller) => {
            while (chunks.length === 0 && !ended && !error) {
              // A stalled agent must not hold the HTTP response open forever.
              const stop = clock.setTimer(timeoutMs, () =>
                fail(new ApiError('TIMEOUT', `the device sent nothing for ${timeoutMs / 1000} s during the transfer`)),
              );
              await new Promise<void>((r) => (wake = r));
              stop();
            }
            const chunk = chunks.shift();
            if (chunk) {
              buffered -= chunk.byteLength;
              granted += chunk.byteLength;
              // Top up in half-window steps: fewer credit frames, the pipe never runs dry.
              if (granted >= STREAM_WINDOW / 2 && !ended) {
                session.send({ t: 'credit', id, bytes: granted });
                granted = 0;
              }
              return controller.enqueue(chunk);
            }
            session.end(id, error !== null);
            if (error) controller.error(error);
            else controller.close();
          },
          cancel: () => {
            session.end(id, true);
          },
        },
        { highWaterMark: 0 },
      );

      options.signal?.addEventListener('abort', () => session.end(id, true), { once: true });
      session.send({ t: 'open', id, path: relPath, ...(range !== undefined ? { range } : {}), credit: STREAM_WINDOW });
    });
  }
}
