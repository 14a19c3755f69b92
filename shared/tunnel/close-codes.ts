/** WebSocket close codes of the tunnel (4000-4999 are for applications), named once for both sides. */
export const CloseCode = {
  /** Normal end, e.g. the agent is shutting down. */
  NORMAL: 1000,
  /** The edge is restarting or redeploying: reconnect soon. */
  GOING_AWAY: 1001,
  /** A frame that did not parse or broke the protocol's rules. */
  BAD_FRAME: 4000,
  /** The other side speaks a protocol version this one does not. */
  UNSUPPORTED_VERSION: 4001,
  /** A newer connection for the same MAC took over. */
  REPLACED: 4002,
  /** No heartbeat within the allowed time. */
  HEARTBEAT_TIMEOUT: 4003,
  /** The device was deleted or its token rotated. */
  REVOKED: 4004,
  /** The first frame was not a hello, or the hello's MAC is not the token's. */
  BAD_HELLO: 4005,
} as const;

export type CloseCodeName = keyof typeof CloseCode;

export function closeCodeName(code: number): CloseCodeName | 'UNKNOWN' {
  for (const [name, value] of Object.entries(CloseCode)) if (value === code) return name as CloseCodeName;
  return 'UNKNOWN';
}
