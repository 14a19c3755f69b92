import { type ClientRequest, Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { WebhookAnswer, WebhookFetch } from '../delivery/webhook-fetch.ts';

/**
 * Webhook POSTs over node:http with kept-alive sockets, for the Node edge and the agent. Node's fetch
 * (undici behind WHATWG streams) costs about four times the CPU per POST, which is what the edge
 * spends most on when 100 devices deliver, and loading it costs the agent 6 MiB of a PBX's memory
 * (bench agent-rss): no Headers, Request or Response is built here. Redirects are never followed and
 * the answer's body is drained unread.
 */
export function createHttpPost(): WebhookFetch {
  const agents = { 'http:': new HttpAgent({ keepAlive: true }), 'https:': new HttpsAgent({ keepAlive: true }) };
  return (input, init) =>
    new Promise<WebhookAnswer>((resolve, reject) => {
      const url = new URL(input);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return reject(new TypeError(`cannot POST to ${url.protocol} URLs`));
      const headers: Record<string, string> = { ...init.headers, 'content-length': String(Buffer.byteLength(init.body)) };
      const signal = init.signal;
      if (signal?.aborted) return reject(signal.reason);
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const attempt = (again: boolean) => {
        // The retry takes a connection of its own: the pool's other idle ones may be closing too.
        const agent = again ? false : agents[url.protocol as keyof typeof agents];
        const req = send(url, { method: init.method, headers, agent }, (res: IncomingMessage) => {
          signal?.removeEventListener('abort', abort);
          // Drained, so the socket goes back to the pool once the body ended.
          res.resume();
          resolve(toAnswer(res));
        });
        const abort = () => req.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
        signal?.addEventListener('abort', abort, { once: true });
        req.on('error', (e: NodeJS.ErrnoException) => {
          signal?.removeEventListener('abort', abort);
          // Instead of a failed attempt and a retry 5 s later.
          if (!again && !signal?.aborted && lostKeptAlive(req, e)) return attempt(true);
          reject(new TypeError('fetch failed', { cause: e }));
        });
        req.end(init.body);
      };
      attempt(false);
    });
}

/**
 * A kept-alive connection the server closed while idle (Node's servers do after 5 s) just as this
 * request went out on it: send it once more, on a new connection, as Node's docs advise.
 */
export function lostKeptAlive(req: ClientRequest, e: NodeJS.ErrnoException): boolean {
  return req.reusedSocket && (e.code === 'ECONNRESET' || e.code === 'EPIPE');
}

function toAnswer(res: IncomingMessage): WebhookAnswer {
  const headers = res.headers;
  return {
    status: res.statusCode ?? 0,
    statusText: res.statusMessage ?? '',
    headers: {
      get(name) {
        const v = headers[name.toLowerCase()];
        return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
      },
    },
  };
}
