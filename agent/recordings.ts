import { open, realpath } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import type { FileStream } from '../shared/device.ts';
import { ApiError } from '../shared/errors.ts';
import { parseRange } from '../shared/http/range.ts';

const CONTENT_TYPES: Record<string, string> = {
  '.wav': 'audio/wav',
  '.mp3': 'audio/mpeg',
  '.gsm': 'audio/x-gsm',
  '.ogg': 'audio/ogg',
};

/** Chunk size of a read; one chunk is read per pull, so memory stays at about this per download. */
const CHUNK_BYTES = 64 * 1024;

/**
 * The agent's side of `GET /monitor/{filePath}`: files below `[paths] monitor`, nowhere else.
 * The route already refused `..`, absolute paths and odd characters; here the filesystem has the last
 * word, since a symlink inside the folder can point anywhere. Everything outside, missing, or not a
 * plain file is the same 404, so the answer does not reveal what exists outside the folder.
 * An unsatisfiable Range gets an empty body and no `range`; the route answers 416 from `size`.
 */
export function createRecordings(monitorDir: string, opts: { chunkBytes?: number } = {}) {
  const chunkBytes = opts.chunkBytes ?? CHUNK_BYTES;
  return async function openRecording(relPath: string, rangeHeader: string | undefined): Promise<FileStream> {
    const notFound = new ApiError('NOT_FOUND', `recording not found: ${relPath}`);
    let root: string;
    let target: string;
    try {
      root = await realpath(monitorDir);
      target = await realpath(resolve(root, relPath));
    } catch {
      throw notFound;
    }
    if (!target.startsWith(root + sep)) throw notFound;
    // Open first, then stat the open file: what we measure is what we send, even if the path changes.
    const handle = await open(target, 'r').catch(() => {
      throw notFound;
    });
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw notFound;
      const contentType = CONTENT_TYPES[extname(target).toLowerCase()] ?? 'application/octet-stream';
      const wanted = parseRange(rangeHeader, stat.size);
      if (wanted.kind === 'unsatisfiable') {
        await handle.close();
        return { size: stat.size, contentType, body: new ReadableStream({ start: (c) => c.close() }) };
      }
      const range = wanted.kind === 'partial' ? wanted.range : undefined;
      const start = range?.start ?? 0;
      const end = range ? range.end : stat.size - 1;
      return { size: stat.size, contentType, range, body: readStream(handle, start, end, chunkBytes) };
    } catch (err) {
      await handle.close();
      throw err;
    }
  };
}

type Handle = Awaited<ReturnType<typeof open>>;

/** Reads [start, end] of the file one chunk per pull, so a slow client holds back the reads. */
function readStream(handle: Handle, start: number, end: number, chunkBytes: number): ReadableStream<Uint8Array> {
  let position = start;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const want = Math.min(chunkBytes, end - position + 1);
        if (want <= 0) {
          await handle.close();
          controller.close();
          return;
        }
        const buffer = new Uint8Array(want);
        const { bytesRead } = await handle.read(buffer, 0, want, position);
        if (bytesRead === 0) {
          // The file shrank under us: end the body short rather than wait forever.
          await handle.close();
          controller.close();
          return;
        }
        position += bytesRead;
        controller.enqueue(bytesRead === want ? buffer : buffer.subarray(0, bytesRead));
      },
      async cancel() {
        await handle.close();
      },
    },
    { highWaterMark: 0 },
  );
}
