import { createServer, type RequestListener, type Server } from 'node:http';

/**
 * The LAN API's HTTP server. @hono/node-server reads the global Request and Response as it loads,
 * which loads undici, Node's fetch: 6 MiB of a PBX's memory (bench agent-rss) for an API nobody may
 * call, and nobody calls it on a box that reaches the cloud through an edge. It loads with the first
 * request instead.
 */
export function createLanServer(fetch: (req: Request) => Response | Promise<Response>, hostname: string): Server {
  let listener: Promise<RequestListener> | null = null;
  return createServer((req, res) => {
    listener ??= import('@hono/node-server').then((m) => m.getRequestListener(fetch, { hostname }));
    void listener.then((l) => l(req, res));
  });
}
