import { createServer, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';

/**
 * The relay's floor: the same processes and sockets as a relayed current-calls (HTTP in, a WebSocket
 * to a second process, AMI over TCP to the simulator, and back), with nothing else: no auth, routing,
 * validation, framing schema or AMI client. argv: `edge` | `agent <ws url> <AMI port>`.
 */
const [role, ...args] = process.argv.slice(2);
process.on('SIGTERM', () => process.exit(0));

if (role === 'edge') {
  const pending = new Map<number, ServerResponse>();
  let agent: WebSocket | undefined;
  let next = 0;
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const server = createServer((req, res) => {
    req.resume();
    if (!agent) return void res.writeHead(503).end();
    const id = ++next;
    pending.set(id, res);
    agent.send(String(id));
  });
  server.on('upgrade', (req, socket, head) =>
    wss.handleUpgrade(req, socket, head, (ws) => {
      agent = ws;
      ws.on('message', (data) => {
        const text = data.toString();
        const space = text.indexOf(' ');
        const id = Number(text.slice(0, space));
        const res = pending.get(id);
        if (!res) return;
        pending.delete(id);
        res.writeHead(200, { 'content-type': 'application/json' }).end(`{"status":"success","data":${text.slice(space + 1)}}`);
      });
      process.stdout.write('agent connected\n');
    }),
  );
  server.listen(0, '127.0.0.1', () => process.stdout.write(`bare edge listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`));
} else if (role === 'agent') {
  const [wsUrl, amiPort] = args;
  const ami = connect(Number(amiPort), '127.0.0.1');
  ami.setNoDelay(true);
  let buffered = '';
  let ws: WebSocket | undefined;
  const channels = new Map<string, string[]>();
  ami.setEncoding('utf8').on('data', (d: string) => {
    buffered += d;
    let end: number;
    while ((end = buffered.indexOf('\r\n\r\n')) !== -1) {
      const msg = buffered.slice(0, end);
      buffered = buffered.slice(end + 4);
      const id = /^ActionID: (.*)$/m.exec(msg)?.[1];
      if (/^Response: Success/m.test(msg) && /^Message: Authentication accepted/m.test(msg)) {
        ws = new WebSocket(wsUrl!, { perMessageDeflate: false });
        ws.on('message', (data) => {
          const n = data.toString();
          channels.set(n, []);
          ami.write(`Action: CoreShowChannels\r\nActionID: ${n}\r\n\r\n`);
        });
        ws.on('open', () => process.stdout.write('bare agent ready\n'));
      } else if (id && /^Event: CoreShowChannel$/m.test(msg)) {
        channels.get(id)?.push(/^Channel: (.*)$/m.exec(msg)?.[1] ?? '');
      } else if (id && /^Event: CoreShowChannelsComplete$/m.test(msg)) {
        ws!.send(`${id} ${JSON.stringify(channels.get(id) ?? [])}`);
        channels.delete(id);
      }
    }
  });
  ami.write('Action: Login\r\nUsername: coocenter\r\nSecret: coocenter\r\nEvents: off\r\n\r\n');
} else {
  throw new Error('usage: bare-relay-child.ts edge | agent <ws url> <AMI port>');
}
