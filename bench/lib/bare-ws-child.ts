import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { HEARTBEAT_PING, HEARTBEAT_PONG } from '../../shared/tunnel/frames.ts';

/** The floor of the tunnels bench: a bare `ws` server that only answers heartbeats. argv: <host>. */
const wss = new WebSocketServer({ port: 0, host: process.argv[2] ?? '127.0.0.1', perMessageDeflate: false });
wss.on('connection', (ws) => {
  ws.on('message', (data) => {
    if (data.toString() === HEARTBEAT_PING) ws.send(HEARTBEAT_PONG);
  });
});
wss.on('listening', () => process.stdout.write(`ws listening on ${(wss.address() as AddressInfo).port}\n`));
process.on('SIGTERM', () => process.exit(0));
