import { ApiError } from '../../shared/errors.ts';
import { MAX_BODY_BYTES, readBody } from '../../shared/http/request-params.ts';

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
  // A declared empty body (a CRM's bodyless POST) has nothing to read: passed on as it came, since
  // copying the request costs a Request and its cf object per call on the relay's path.
  if (!request.body || request.headers.get('content-length') === '0') return request;
  let body: Uint8Array;
  try {
    body = await readBody(request, MAX_BODY_BYTES);
  } catch (e) {
    if (e instanceof ApiError) return refuse(e.status, e.message);
    throw e;
  }
  return new Request(request, { body });
}
