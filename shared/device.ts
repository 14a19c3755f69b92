import type { OperationName, OperationParams } from './api/operations.ts';
import type { OperationBody } from './api/responses.ts';

export interface RunOptions {
  signal?: AbortSignal;
  /** Present for commands that act on calls: the device (or the edge) answers a repeat from its cache. */
  idempotencyKey?: string;
}

/** A byte range already checked against the file's size: inclusive start and end, as HTTP states it. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface FileStream {
  /** Full size of the file. */
  size: number;
  contentType: string;
  /** The range served, when the request asked for one. */
  range?: ByteRange;
  body: ReadableStream<Uint8Array>;
}

/**
 * "Something that runs a command on this device". On the agent it is the local AMI client
 * (AmiDevice); on the edge it is the device's tunnel. Routes only ever see this.
 * Failures are thrown as ApiError (shared/errors.ts).
 */
export interface Device {
  run<N extends OperationName>(op: N, params: OperationParams<N>, options?: RunOptions): Promise<OperationBody<N>>;
  /**
   * Opens a recording below the device's recordings folder. `relPath` is already decoded and checked
   * for shape by the route; the device re-checks containment (symlinks) on its own filesystem.
   * `range` is the raw Range header, if any.
   */
  openRecording(relPath: string, range: string | undefined, options?: { signal?: AbortSignal }): Promise<FileStream>;
}
