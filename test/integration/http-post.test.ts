import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpPost } from '../../shared/node/http-post.ts';

describe('the Node webhook client (edge and agent)', () => {
  let close: (() => Promise<void>) | null = null;
  afterEach(async () => {
    await close?.();
    close = null;
  });

  async function serve(handler: (req: IncomingMessage, body: string, res: ServerResponse) => void): Promise<string> {
    const server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (d: string) => (body += d));
      req.on('end', () => handler(req, body, res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    close = () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    };
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook?k=1`;
  }

  it('POSTs the body and headers whole, and reuses the connection', async () => {
    const seen: { body: string; sig: unknown; length: unknown; port: number | undefined; path: string | undefined }[] = [];
    const url = await serve((req, body, res) => {
      seen.push({ body, sig: req.headers['webhook-signature'], length: req.headers['content-length'], port: req.socket.remotePort, path: req.url });
      res.writeHead(204).end();
    });
    const post = createHttpPost();
    const body = JSON.stringify({ event: 'hangup', name: '张三' });
    for (let i = 0; i < 2; i++) {
      const res = await post(url, { method: 'POST', headers: { 'content-type': 'application/json', 'webhook-signature': 'v1,abc' }, body });
      expect(res.status).toBe(204);
    }
    expect(seen.map((s) => s.body)).toEqual([body, body]);
    expect(seen[0]).toMatchObject({ sig: 'v1,abc', length: String(Buffer.byteLength(body)), path: '/hook?k=1' });
    expect(seen[1]!.port).toBe(seen[0]!.port);
  });

  /**
   * A receiver that drops each connection's second request unanswered, as a server closing an idle
   * connection at that moment looks to the client: the connections it saw, the requests it answered.
   */
  async function dropsSecondRequests() {
    const connections = new Set<unknown>();
    let answered = 0;
    const url = await serve((req, _body, res) => {
      const seen = connections.has(req.socket);
      connections.add(req.socket);
      if (seen) return void req.socket.destroy();
      answered++;
      res.writeHead(204).end();
    });
    return { url, connections, answered: () => answered };
  }

  it('sends once more on a new connection when the kept-alive one was closed as the request went out', async () => {
    const { url, connections, answered } = await dropsSecondRequests();
    const post = createHttpPost();
    for (let i = 0; i < 3; i++) expect((await post(url, { method: 'POST', body: '{}' })).status).toBe(204);
    expect(answered()).toBe(3);
    expect(connections.size).toBe(3);
  });

  it('sends the retry on a connection of its own, not on another kept-alive one closing at the same time', async () => {
    const { url, connections, answered } = await dropsSecondRequests();
    const post = createHttpPost();
    // Two connections in the pool, each of which the receiver drops at its next request.
    expect((await Promise.all([post(url, { method: 'POST', body: '{}' }), post(url, { method: 'POST', body: '{}' })])).map((r) => r.status)).toEqual([204, 204]);
    expect(connections.size).toBe(2);
    expect((await post(url, { method: 'POST', body: '{}' })).status).toBe(204);
    expect(connections.size).toBe(3);
    expect(answered()).toBe(3);
  });

  it('gives delivery the status and Retry-After, without following redirects', async () => {
    const url = await serve((req, _body, res) => {
      if (req.url?.startsWith('/hook')) res.writeHead(503, 'Busy', { 'retry-after': '7' }).end('later');
      else res.writeHead(302, { location: '/hook' }).end();
    });
    const post = createHttpPost();
    const res = await post(url, { method: 'POST', body: '{}' });
    expect([res.status, res.statusText, res.headers.get('retry-after')]).toEqual([503, 'Busy', '7']);
    expect((await post(url.replace('/hook', '/moved'), { method: 'POST', body: '{}', redirect: 'manual' })).status).toBe(302);
  });

  it('rejects when the signal aborts a request the receiver never answers', async () => {
    const url = await serve(() => {});
    const ctl = new AbortController();
    const pending = createHttpPost()(url, { method: 'POST', body: '{}', signal: ctl.signal });
    ctl.abort(new Error('timed out'));
    await expect(pending).rejects.toThrow();
  });

  it('rejects a receiver that cannot be reached, with the socket error as cause', async () => {
    const url = await serve(() => {});
    await close!();
    close = null;
    await expect(createHttpPost()(url, { method: 'POST', body: '{}' })).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
  });
});
