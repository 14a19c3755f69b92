import type { OperationName, OperationParams } from '../shared/api/operations.ts';
import type { OperationBody } from '../shared/api/responses.ts';
import type { Device, FileStream, RunOptions } from '../shared/device.ts';
import { ApiError } from '../shared/errors.ts';
import { createMemoryIdempotencyStore, type IdempotencyStore } from '../shared/idempotency.ts';
import { AmiError } from './ami/errors.ts';
import type { AmiRunner } from './ami/types.ts';
import { AmiInjectionError } from './ami/writer.ts';
import { CallerIdNames } from './ops/caller-id-names.ts';
import type { ChannelDriver, OpContext } from './ops/context.ts';
import { opHandlers, type OpHandler } from './ops/index.ts';

export interface AmiDeviceOptions {
  ami: AmiRunner;
  /** The default driver (agent/ami/driver.ts detectDriver). */
  driver: ChannelDriver;
  /** Every driver loaded; default: `driver` alone. */
  drivers?: readonly ChannelDriver[];
  /** api.conf `[ami] context`. */
  context?: string;
  /** api.conf `[ami] member_interface`. */
  memberInterface?: string;
  originateTimeoutMs?: number;
  /** agent/recordings.ts `createRecordings(monitorDir)`. */
  openRecording: (relPath: string, range: string | undefined, options?: { signal?: AbortSignal }) => Promise<FileStream>;
  now?: () => number;
}

/**
 * The agent's Device: runs each operation's AMI actions (agent/ops/) on the local Asterisk and turns
 * every failure into the ApiError a user sees. Repeats of a command with the same Idempotency-Key
 * within 10 minutes get the first answer.
 */
export class AmiDevice implements Device {
  private readonly base: Omit<OpContext, 'ami'>;
  /**
   * The device remembers keys too, not only the routes in front of it: a command relayed by the edge
   * whose answer was lost with the tunnel is retried with the same key and must not act twice.
   */
  private readonly idempotency: IdempotencyStore;

  constructor(private readonly opts: AmiDeviceOptions) {
    const now = opts.now ?? Date.now;
    this.base = {
      driver: opts.driver,
      drivers: opts.drivers ?? [opts.driver],
      context: opts.context ?? 'from-internal',
      originateTimeoutMs: opts.originateTimeoutMs ?? 30_000,
      names: new CallerIdNames(now),
      ...(opts.memberInterface ? { memberInterface: opts.memberInterface } : {}),
    };
    this.idempotency = createMemoryIdempotencyStore({ now });
  }

  run<N extends OperationName>(op: N, params: OperationParams<N>, options: RunOptions = {}): Promise<OperationBody<N>> {
    if (options.idempotencyKey === undefined) return this.execute(op, params, options.signal);
    // Thrown failures are not remembered (the store keeps answers only), so a retry can act.
    return this.idempotency
      .once(op, options.idempotencyKey, JSON.stringify(params), async () => ({ status: 200, body: await this.execute(op, params, options.signal) }))
      // Only this operation's own answers are kept under its key.
      .then((a) => a.body as OperationBody<N>);
  }

  openRecording(relPath: string, range: string | undefined, options?: { signal?: AbortSignal }): Promise<FileStream> {
    return this.opts.openRecording(relPath, range, options);
  }

  private async execute<N extends OperationName>(op: N, params: OperationParams<N>, signal: AbortSignal | undefined): Promise<OperationBody<N>> {
    const handler = opHandlers[op] as OpHandler<N>;
    const ami: AmiRunner = signal ? { action: (a, o) => this.opts.ami.action(a, { ...o, signal }) } : this.opts.ami;
    try {
      return await handler(params, { ...this.base, ami });
    } catch (err) {
      throw toApiError(err);
    }
  }
}

/** One place where AMI failures become what the REST caller reads. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof AmiError) {
    switch (err.code) {
      case 'AMI_NOT_CONNECTED':
      case 'AMI_DISCONNECTED':
      case 'AMI_AUTH':
      case 'AMI_CLOSED':
        return new ApiError('PBX_UNAVAILABLE', 'Asterisk is not connected (AMI); the agent keeps reconnecting, try again shortly');
      case 'AMI_TIMEOUT':
        return new ApiError('TIMEOUT', 'Asterisk did not answer in time');
      case 'AMI_ABORTED':
        return new ApiError('TIMEOUT', 'The request was cancelled before Asterisk answered');
      case 'AMI_RESPONSE':
        return new ApiError('PBX_ERROR', `Asterisk refused the command: ${err.amiMessage ?? err.message}`);
    }
  }
  if (err instanceof AmiInjectionError) return new ApiError('BAD_PARAMETER', `${err.field} contains a control character`, err.field);
  const internal = new ApiError('INTERNAL', 'Internal error in the agent');
  internal.cause = err;
  return internal;
}
