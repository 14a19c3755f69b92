import { ApiError } from '../errors.ts';

/** Parameters are a few short numbers; anything bigger is a mistake or an attack. */
export const MAX_BODY_BYTES = 16 * 1024;

/**
 * The parameters of a request as the document's clients send them: query string, then a
 * form-urlencoded, multipart or JSON body on top (the body wins). Keys and values are trimmed,
 * because the document's own curl sends `-d" src=808&dst=809"`. A control character anywhere in a
 * value is refused here, before trimming could hide a trailing CR/LF: AMI is a line protocol.
 */
export async function readRequestParams(req: Request, maxBytes = MAX_BODY_BYTES): Promise<Record<string, string>> {
  const params: Record<string, string> = Object.create(null);
  const query = req.url.indexOf('?');
  if (query !== -1) put(params, formPairs(req.url.slice(query + 1).split('#')[0]!));
  const bytes = await readBody(req, maxBytes);
  if (bytes.length === 0) return params;
  const type = (req.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json' || type.endsWith('+json')) putJson(params, new TextDecoder().decode(bytes));
  else if (type === 'multipart/form-data') put(params, await multipart(req, bytes));
  // No or any other content type: curl -d sends form-urlencoded, and so do most CRMs' HTTP helpers.
  else put(params, formPairs(new TextDecoder().decode(bytes)));
  return params;
}

/**
 * `a=1&b=2` decoded like URLSearchParams except that `+` stays `+`: values here never hold spaces,
 * while a hand-written `curl -d "dst=+8613800138000"` means the international prefix, not a space.
 */
function formPairs(text: string): [string, string][] {
  return text
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const [k, v] = eq === -1 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
      try {
        return [decodeURIComponent(k), decodeURIComponent(v)];
      } catch {
        throw new ApiError('BAD_PARAMETER', `${k.trim()}: is not valid percent-encoding`, k.trim());
      }
    });
}

/** The whole body, or ApiError PAYLOAD_TOO_LARGE as soon as it passes `maxBytes` (declared or read). */
export async function readBody(req: Request, maxBytes: number): Promise<Uint8Array> {
  const length = req.headers.get('content-length');
  const declared = Number(length ?? '0');
  if (declared > maxBytes) throw tooLarge(maxBytes);
  // A declared empty body is not read: on Node, touching req.body builds a web stream over the socket.
  if ((length !== null && declared === 0) || !req.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel();
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function put(params: Record<string, string>, entries: Iterable<[string, string | unknown]>): void {
  for (const [rawKey, rawValue] of entries) {
    const key = rawKey.trim();
    if (typeof rawValue !== 'string') throw new ApiError('BAD_PARAMETER', `${key}: must be text, not a file`, key);
    set(params, key, rawValue);
  }
}

function putJson(params: Record<string, string>, text: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ApiError('BAD_PARAMETER', 'the request body is not valid JSON', 'body');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ApiError('BAD_PARAMETER', 'the JSON body must be an object of parameters', 'body');
  }
  for (const [rawKey, value] of Object.entries(parsed)) {
    const key = rawKey.trim();
    // CRMs send numbers as numbers ({"src": 808}); the document's values are strings.
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) set(params, key, String(value));
    else if (typeof value === 'string') set(params, key, value);
    else throw new ApiError('BAD_PARAMETER', `${key}: must be a string`, key);
  }
}

function set(params: Record<string, string>, key: string, value: string): void {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw new ApiError('BAD_PARAMETER', `${key}: must not contain control characters (CR, LF, ...)`, key);
  }
  params[key] = value.trim();
}

async function multipart(req: Request, bytes: Uint8Array): Promise<Iterable<[string, unknown]>> {
  try {
    const form = await new Response(bytes, { headers: { 'content-type': req.headers.get('content-type')! } }).formData();
    return form.entries();
  } catch {
    throw new ApiError('BAD_PARAMETER', 'the multipart body cannot be read', 'body');
  }
}

const tooLarge = (max: number) => new ApiError('PAYLOAD_TOO_LARGE', `the request body is larger than ${max} bytes`);
