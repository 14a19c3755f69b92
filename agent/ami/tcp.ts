import { connect as netConnect } from 'node:net';
import type { AmiConnect } from './client.ts';

/** A real TCP transport for AmiClient. */
export function tcpConnect(host: string, port: number): AmiConnect {
  return (handlers) => {
    const socket = netConnect({ host, port });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 15_000);
    let closed = false;
    const finish = (error?: Error) => {
      if (closed) return;
      closed = true;
      handlers.onClose(error);
    };
    socket.on('data', (chunk: Buffer) => handlers.onData(chunk));
    socket.on('error', (e) => finish(e));
    socket.on('close', () => finish());
    return {
      write: (data) => {
        if (!socket.destroyed) socket.write(data);
      },
      close: () => socket.destroy(),
    };
  };
}
