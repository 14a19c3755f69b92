import { MAX_BODY_BYTES } from '../../shared/http/request-params.ts';

/** What Node's HTTP server allows by default (16 KiB of headers); the Node edge answers 431 past it. */
export const MAX_HEADER_BYTES = 16 * 1024;

const refuse = (status: number, message: string) => Response.json({ status: 'error', message }, { status });

/**
 * Checks a request in the Worker, before any Durable Object sees it: headers past Node's limit get
 * 431, bodies past the API's limit get 413. Inside an object, an answer sent before the body was
 * read makes workerd throw ("Can't read from request stream after response has been sent") and
 * reset the object, dropping the device's tunnel: one oversized request would knock a box offline.
 * Returns a refusal, or the request with its body read into memory (at most MAX_BODY_BYTES).
 */
export async function withinLimits(request: Request): Promise<Response | Request> {
  let headerBytes = 0;
  for (const [k, v] of request.headers) headerBytes += k.length + v.length + 4;
  if (headerBytes > MAX_HEADER_BYTES) return refuse(431, `request headers are larger than ${MAX_HEADER_BYTES} bytes`);
  if (!request.body) return request;
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_BODY_BYTES) return refuse(413, `the request body is larger than ${MAX_BODY_BYTES} bytes`);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_BODY_BYTES) {
      await reader.cancel();
      return refuse(413, `the request body is larger than ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(value);
  }
  const body = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    body.set(c, at);
    at += c.byteLength;
  }
  return new Request(request, { body });
}
