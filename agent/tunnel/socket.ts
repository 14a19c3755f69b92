/**
 * The few WebSocket operations the tunnel client needs; agent/tunnel/ws-connect.ts adapts the `ws`
 * package to it and tests may adapt anything else.
 */
export interface TunnelSocket {
  send(data: string | Uint8Array): void;
  close(code: number, reason: string): void;
  /** Bytes queued but not yet handed to the network: the client stops reading files above a bound. */
  readonly bufferedAmount: number;
}

export interface TunnelSocketHandlers {
  onOpen(): void;
  onText(text: string): void;
  onBinary(data: Uint8Array): void;
  /** Called once, whatever ended the connection (refused upgrade, network error, close frame). */
  onClose(code: number, reason: string): void;
  /** Called when buffered bytes have drained, so paused streams can go on. */
  onDrain?(): void;
}

export type TunnelConnect = (url: string, headers: Record<string, string>, handlers: TunnelSocketHandlers) => TunnelSocket;
