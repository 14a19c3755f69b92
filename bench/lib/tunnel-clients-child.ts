import WebSocket from 'ws';
import { HEARTBEAT_PING, PROTOCOL_VERSION, type HelloFrame } from '../../shared/tunnel/frames.ts';
import { benchMac } from './bench-mac.ts';

/**
 * Many agents' tunnels from one process: each connects with its device token, says hello and pings
 * every heartbeat, as agent/tunnel/client.ts does. argv: <ws url> <count> <token> <heartbeat ms>.
 * Prints `open <n>` once all are open, and exits on SIGTERM.
 */
const [url, countArg, token, heartbeatArg] = process.argv.slice(2);
const count = Number(countArg);
const heartbeatMs = Number(heartbeatArg);
const OPENING_AT_ONCE = 200;
const sockets: WebSocket[] = [];
let open = 0;
let failed = 0;

function connect(i: number): Promise<void> {
  return new Promise((resolve) => {
    const mac = benchMac(i);
    const ws = new WebSocket(url!, { headers: { authorization: `Bearer ${token}`, 'x-device-mac': mac }, perMessageDeflate: false });
    sockets.push(ws);
    ws.on('open', () => {
      const hello: HelloFrame = {
        t: 'hello', v: PROTOCOL_VERSION, mac, agentVersion: 'bench', timeZone: 'UTC', driver: 'sip', url: null, popUrl: null,
        wrapup: { enabled: false, seconds: 30 }, ami: 'ready', asteriskVersion: '20.20.1', webkeyDigests: [],
        outbox: { epoch: 'bench', firstUnacked: 0, nextSeq: 0, dropped: 0 }, gaps: [],
      };
      ws.send(JSON.stringify(hello));
      open++;
      // Spread heartbeats over the interval, as agents that connected at different times do.
      setTimeout(() => setInterval(() => ws.send(HEARTBEAT_PING), heartbeatMs), Math.random() * heartbeatMs);
      resolve();
    });
    ws.on('error', () => {
      failed++;
      resolve();
    });
  });
}

for (let i = 0; i < count; i += OPENING_AT_ONCE) {
  await Promise.all(Array.from({ length: Math.min(OPENING_AT_ONCE, count - i) }, (_, k) => connect(i + k)));
}
process.stdout.write(`open ${open} failed ${failed}\n`);
process.on('SIGTERM', () => {
  for (const ws of sockets) ws.terminate();
  process.exit(0);
});
