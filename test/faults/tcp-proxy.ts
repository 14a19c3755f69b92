import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** What the proxy did to the traffic, so a fault row can show that its cut really happened. */
export interface ProxyCounts {
  /** Open connections reset (RST) by `reset()`. */
  resets: number;
  /** New connections refused (RST at once) while cut. */
  refused: number;
  /** Bytes that arrived during a black hole, both directions, held until `heal()`. */
  heldBytes: number;
  /** New connections accepted during a black hole and held open and silent. */
  heldConnections: number;
}

/** One end of a proxied connection, and what it sent during a black hole. */
interface Side {
  socket: Socket;
  held: Buffer[];
  /** Its end (FIN) or close came during a black hole: passed on at heal, after its bytes. */
  ended: boolean;
  closed: boolean;
  /** Paused until the other side drains. */
  waiting: boolean;
}

interface Pair {
  client: Side;
  upstream: Side | null;
}

const side = (socket: Socket): Side => ({ socket, held: [], ended: false, closed: false, waiting: false });

/**
 * A TCP proxy in front of the edge that a test can cut: `reset()` sends RST on every connection and
 * refuses new ones; `blackHole()` stops forwarding in both directions without closing anything (a
 * NAT that forgot the flow), holding new connections open and silent too: what arrives meanwhile,
 * bytes, ends and closes, is held (and counted) and passed on at `heal()`. `counts` tells what each
 * cut did.
 */
export class TcpProxy {
  private server: Server | null = null;
  private readonly pairs = new Set<Pair>();
  private mode: 'forward' | 'refuse' | 'hole' = 'forward';
  private readonly counted: ProxyCounts = { resets: 0, refused: 0, heldBytes: 0, heldConnections: 0 };
  port = 0;

  constructor(private targetPort: number) {}

  /** A snapshot of what the cuts did so far. */
  get counts(): ProxyCounts {
    return { ...this.counted };
  }

  async start(): Promise<this> {
    // Half-open allowed, so an end read during a black hole answers nothing until heal.
    const server = createServer({ allowHalfOpen: true }, (client) => this.accept(client));
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
    for (const pair of this.pairs) {
      this.counted.resets++;
      this.drop(pair);
    }
  }

  blackHole(): void {
    this.mode = 'hole';
    // Reading goes on, into the held buffers, so what the hole swallows is counted.
    for (const { client, upstream } of this.pairs) {
      client.socket.resume();
      upstream?.socket.resume();
    }
  }

  heal(): void {
    this.mode = 'forward';
    for (const pair of [...this.pairs]) {
      if (!pair.upstream) {
        if (pair.client.closed) {
          this.drop(pair);
          continue;
        }
        this.connect(pair);
      }
      const upstream = pair.upstream!;
      this.release(pair, pair.client, upstream);
      if (this.pairs.has(pair)) this.release(pair, upstream, pair.client);
    }
  }

  async close(): Promise<void> {
    for (const pair of this.pairs) this.drop(pair);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private accept(socket: Socket): void {
    socket.on('error', () => undefined);
    if (this.mode === 'refuse') {
      this.counted.refused++;
      return void socket.resetAndDestroy();
    }
    const pair: Pair = { client: side(socket), upstream: null };
    this.pairs.add(pair);
    this.wire(pair, pair.client, () => pair.upstream);
    if (this.mode === 'hole') {
      this.counted.heldConnections++;
      return;
    }
    this.connect(pair);
  }

  private connect(pair: Pair): void {
    const upstream = createConnection({ host: '127.0.0.1', port: this.targetPort, allowHalfOpen: true });
    upstream.on('error', () => undefined);
    pair.upstream = side(upstream);
    this.wire(pair, pair.upstream, () => pair.client);
  }

  /** Forwards what `from` sends to the other side, or holds it during a black hole. */
  private wire(pair: Pair, from: Side, to: () => Side | null): void {
    from.socket.on('data', (chunk: Buffer) => {
      const dest = to();
      if (this.mode === 'hole' || !dest) {
        from.held.push(chunk);
        if (this.mode === 'hole') this.counted.heldBytes += chunk.length;
        return;
      }
      this.forward(from, dest, chunk);
    });
    from.socket.on('end', () => {
      const dest = to();
      if (this.mode === 'hole' || !dest) from.ended = true;
      else this.end(from, dest);
    });
    from.socket.on('close', () => {
      if (this.mode === 'hole') from.closed = true;
      else this.drop(pair);
    });
  }

  private forward(from: Side, to: Side, chunk: Buffer): void {
    if (to.socket.write(chunk) || from.waiting) return;
    from.waiting = true;
    from.socket.pause();
    to.socket.once('drain', () => {
      from.waiting = false;
      from.socket.resume();
    });
  }

  /** An end read from one side ends the other, and this side too, as a piped socket would. */
  private end(from: Side, to: Side): void {
    to.socket.end();
    from.socket.end();
  }

  /** At heal: what `from` sent into the hole, then its end or close. */
  private release(pair: Pair, from: Side, to: Side): void {
    for (const chunk of from.held.splice(0)) this.forward(from, to, chunk);
    if (from.closed) this.drop(pair);
    else if (from.ended) this.end(from, to);
  }

  private drop(pair: Pair): void {
    if (!this.pairs.delete(pair)) return;
    pair.client.socket.resetAndDestroy();
    pair.upstream?.socket.resetAndDestroy();
  }
}
