import { type ClientRequest, Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/**
 * The little of `fetch` webhook delivery uses (POST a string, read the status and headers, drop the
 * body), over node:http with kept-alive sockets. Node's fetch (undici behind WHATWG streams) costs
 * about four times the CPU per POST, which is what the edge spends most on when 100 devices deliver.
 * Redirects are never followed (delivery asks for `redirect: 'manual'`), and the body is not read.
 */
export function createHttpFetch(): typeof fetch {
  const agents = { 'http:': new HttpAgent({ keepAlive: true }), 'https:': new HttpsAgent({ keepAlive: true }) };
  return (input, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return reject(new TypeError(`cannot POST to ${url.protocol} URLs`));
      const body = init.body ?? null;
      if (body !== null && typeof body !== 'string' && !(body instanceof Uint8Array)) return reject(new TypeError('body must be a string or bytes'));
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((v, k) => {
        headers[k] = v;
      });
      if (body !== null) headers['content-length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
      const signal = init.signal;
      if (signal?.aborted) return reject(signal.reason);
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const attempt = (again: boolean) => {
        const req = send(url, { method: init.method ?? 'GET', headers, agent: agents[url.protocol as keyof typeof agents] }, (res: IncomingMessage) => {
          signal?.removeEventListener('abort', abort);
          // Drained, so the socket goes back to the pool once the body ended.
          res.resume();
          resolve(toResponse(res));
        });
        const abort = () => req.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
        signal?.addEventListener('abort', abort, { once: true });
        req.on('error', (e: NodeJS.ErrnoException) => {
          signal?.removeEventListener('abort', abort);
          // Instead of a failed attempt and a retry 5 s later.
          if (!again && !signal?.aborted && lostKeptAlive(req, e)) return attempt(true);
          reject(new TypeError('fetch failed', { cause: e }));
        });
        req.end(body ?? undefined);
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

function toResponse(res: IncomingMessage): Response {
  const headers = new Headers();
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    try {
      headers.append(raw[i]!, raw[i + 1]!);
    } catch {
      // a header value Headers refuses: delivery reads only Retry-After
    }
  }
  const status = res.statusCode ?? 0;
  // Response only holds 200..599; anything else is a broken receiver, which delivery retries like a 5xx.
  return new Response(null, { status: status >= 200 && status <= 599 ? status : 502, statusText: statusText(res.statusMessage), headers });
}

/** Response refuses a reason phrase outside HTTP's token characters. */
const statusText = (s: string | undefined) => (s && /^[\t\x20-\x7e\x80-\xff]*$/.test(s) ? s : '');
