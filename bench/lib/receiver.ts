import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A webhook receiver that only counts: every POST is read whole and answered 204 on a kept-alive
 * connection. Keeping bodies would make the receiver, not the sender, what a benchmark measures.
 */
export class CountingReceiver {
  count = 0;
  private waiters: { n: number; resolve: () => void }[] = [];
  private readonly server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    req.on('data', () => {});
    req.on('end', () => {
      res.writeHead(204).end();
      this.count++;
      if (this.waiters.length > 0) this.waiters = this.waiters.filter((w) => {
        if (w.n > this.count) return true;
        w.resolve();
        return false;
      });
    });
  });
  url = '';

  async start(host = '127.0.0.1'): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, host, resolve));
    this.url = `http://${host}:${(this.server.address() as AddressInfo).port}/hook`;
    return this;
  }

  /** Resolves once `n` POSTs in all have arrived. */
  reached(n: number): Promise<void> {
    if (this.count >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
