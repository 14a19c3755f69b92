import WebSocket from 'ws';
import type { TunnelConnect } from './socket.ts';

/** The real WebSocket transport, using `ws` (Node has no WebSocket client with custom headers). */
export const wsConnect: TunnelConnect = (url, headers, handlers) => {
  const ws = new WebSocket(url, { headers, maxPayload: 16 * 1024 * 1024, handshakeTimeout: 15_000, perMessageDeflate: false });
  let closed = false;
  const finish = (code: number, reason: string) => {
    if (closed) return;
    closed = true;
    handlers.onClose(code, reason);
  };
  ws.on('open', () => handlers.onOpen());
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) handlers.onBinary(data);
    else handlers.onText(data.toString('utf8'));
  });
  ws.on('unexpected-response', (_req, res) => {
    finish(1006, `edge refused the tunnel: HTTP ${res.statusCode}`);
    ws.terminate();
  });
  ws.on('error', (e) => finish(1006, e.message));
  ws.on('close', (code, reason) => finish(code, reason.toString('utf8')));
  return {
    send: (data) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      ws.send(data, () => {
        if (ws.bufferedAmount === 0) handlers.onDrain?.();
      });
    },
    close: (code, reason) => {
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(code, reason);
    },
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
  };
};
