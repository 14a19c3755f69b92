/**
 * The one error type a user sees: HTTP status, a stable code, and a message a person can act on.
 * Routes throw it; one place (the app's onError) turns it into `{status:"error", message}`.
 */
export type ApiErrorCode =
  | 'BAD_PARAMETER'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'RANGE_NOT_SATISFIABLE'
  | 'RATE_LIMITED'
  | 'PBX_ERROR'
  | 'PBX_UNAVAILABLE'
  | 'DEVICE_OFFLINE'
  | 'TIMEOUT'
  | 'INTERNAL';

const STATUS: Record<ApiErrorCode, number> = {
  BAD_PARAMETER: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  RANGE_NOT_SATISFIABLE: 416,
  RATE_LIMITED: 429,
  PBX_ERROR: 502,
  PBX_UNAVAILABLE: 502,
  DEVICE_OFFLINE: 503,
  TIMEOUT: 504,
  INTERNAL: 500,
};

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    /** The request field at fault, for BAD_PARAMETER. */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = STATUS[code];
  }

  toBody(): { status: 'error'; message: string } {
    return { status: 'error', message: this.message };
  }

  /** Plain form for crossing the tunnel; `fromJSON` rebuilds it on the other side. */
  toJSON(): { code: ApiErrorCode; message: string; field?: string } {
    return this.field === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, field: this.field };
  }

  static fromJSON(j: { code: ApiErrorCode; message: string; field?: string }): ApiError {
    return new ApiError(j.code in STATUS ? j.code : 'INTERNAL', j.message, j.field);
  }
}

export const badParameter = (field: string, message: string) => new ApiError('BAD_PARAMETER', message, field);
