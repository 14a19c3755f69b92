import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP proxy in front of the edge that a test can cut: `reset()` sends RST on every connection and
 * refuses new ones; `blackHole()` stops forwarding in both directions without closing anything (a
 * NAT that forgot the flow), holding new connections open and silent too. `heal()` restores it.
 */
export class TcpProxy {
  private server: Server | null = null;
  private readonly pairs = new Set<[Socket, Socket | null]>();
  private mode: 'forward' | 'refuse' | 'hole' = 'forward';
  port = 0;

  constructor(private targetPort: number) {}

  async start(): Promise<this> {
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  retarget(port: number): void {
    this.targetPort = port;
  }

  reset(): void {
    this.mode = 'refuse';
    for (const pair of this.pairs) this.drop(pair);
  }

  blackHole(): void {
    this.mode = 'hole';
    for (const [a, b] of this.pairs) {
      a.pause();
      b?.pause();
    }
  }

  heal(): void {
    this.mode = 'forward';
    for (const pair of this.pairs) {
      pair[0].resume();
      if (pair[1]) pair[1].resume();
      else this.connect(pair);
    }
  }

  async close(): Promise<void> {
    for (const pair of this.pairs) this.drop(pair);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private accept(client: Socket): void {
    client.on('error', () => undefined);
    if (this.mode === 'refuse') return void client.resetAndDestroy();
    const pair: [Socket, Socket | null] = [client, null];
    this.pairs.add(pair);
    client.on('close', () => this.drop(pair));
    if (this.mode === 'hole') return void client.pause();
    this.connect(pair);
  }

  private connect(pair: [Socket, Socket | null]): void {
    const [client] = pair;
    const upstream = createConnection({ host: '127.0.0.1', port: this.targetPort });
    pair[1] = upstream;
    upstream.on('error', () => undefined);
    upstream.on('close', () => this.drop(pair));
    client.pipe(upstream);
    upstream.pipe(client);
  }

  private drop(pair: [Socket, Socket | null]): void {
    if (!this.pairs.delete(pair)) return;
    pair[0].resetAndDestroy();
    pair[1]?.resetAndDestroy();
  }
}
