import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
}

/** What the receiver does with request number n (0-based): answer, or hold it open forever. */
export type Responder = (req: ReceivedWebhook, n: number) => { status: number; headers?: Record<string, string> } | 'hang';

/**
 * A real HTTP webhook receiver on 127.0.0.1. It can be taken down (connection refused) and brought
 * back on the same port, as a customer's server restarts.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  /** How many requests got each status: what a fault test injected (its 500s, its 429s). */
  readonly answered = new Map<number, number>();
  /** Requests held open ('hang') until the sender gave up or the receiver stopped. */
  held = 0;
  private server: Server | null = null;
  private readonly hanging = new Set<ServerResponse>();
  port = 0;

  constructor(public respond: Responder = () => ({ status: 200 })) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const hook = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        const n = this.received.push(hook) - 1;
        const answer = this.respond(hook, n);
        if (answer === 'hang') {
          this.held++;
          this.hanging.add(res);
          return;
        }
        this.answered.set(answer.status, (this.answered.get(answer.status) ?? 0) + 1);
        res.writeHead(answer.status, answer.headers).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  /** Closes the port; requests are refused until `start()` again. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Requests answered with `status` so far. */
  answeredWith(status: number): number {
    return this.answered.get(status) ?? 0;
  }

  /** Bodies' `i` fields in arrival order. */
  order(): number[] {
    return this.received.map((r) => (JSON.parse(r.body) as { i: number }).i);
  }
}
