import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CountingReceiver } from './receiver.ts';

/**
 * A CountingReceiver in a process of its own, so the POSTs it answers do not share the bench's (or
 * the sender's) event loop. A second port answers `GET /reached?n=N` once N POSTs in all arrived,
 * and `GET /count`. Prints `receiver <hook url> <control url>`.
 */
const receiver = await new CountingReceiver().start();
const control = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://control');
  if (url.pathname === '/count') return void res.end(String(receiver.count));
  if (url.pathname === '/reached') return void receiver.reached(Number(url.searchParams.get('n'))).then(() => res.end(String(receiver.count)));
  res.writeHead(404).end();
});
await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
process.stdout.write(`receiver ${receiver.url} http://127.0.0.1:${(control.address() as AddressInfo).port}\n`);
process.on('SIGTERM', () => {
  control.closeAllConnections();
  control.close();
  void receiver.close().then(() => process.exit(0));
});
