import { ApiError } from '../errors.ts';

/**
 * Turns the raw (still percent-encoded) part of a request path after `/monitor/` into a relative
 * path below the recordings folder, or refuses it. Decoding happens here exactly once, per segment,
 * so `%2f` cannot make a new segment and `%252e%252e` stays the literal name `%2e%2e`, which is then
 * refused too: recording names never contain `%`, and refusing it means no later layer that decodes
 * again can ever see `..`.
 */
export function monitorRelPath(raw: string): string {
  if (raw === '') throw refused('a file path is required after /monitor/');
  if (raw.startsWith('/')) throw refused('the file path must be relative to the recordings folder');
  const segments = raw.split('/').map((segment) => {
    let name: string;
    try {
      name = decodeURIComponent(segment);
    } catch {
      throw refused('the file path is not valid percent-encoding');
    }
    if (name === '') throw refused('the file path has an empty segment');
    if (name === '.' || name === '..') throw refused('the file path must not contain . or .. segments');
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f/\\%]/.test(name)) {
      throw refused('the file path must not contain control characters, encoded slashes, backslashes or %');
    }
    return name;
  });
  return segments.join('/');
}

const refused = (why: string) => new ApiError('BAD_PARAMETER', `filePath: ${why}`, 'filePath');
