import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';

/**
 * A log Asterisk appends to (queue_log, Master.csv) and the copies rotation left beside it:
 * `queue_log.1`, `queue_log.2.gz` (logrotate, Asterisk's own `rotatestrategy`), `Master.csv-20261130`.
 * Only files written to since `sinceMs` can hold lines of a window starting then, so older ones are
 * not opened. Oldest first, so lines come in the order they were written.
 */
export async function rotatedFiles(path: string, sinceMs: number): Promise<string[]> {
  const dir = dirname(path);
  const base = basename(path);
  const rotated = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([.-][0-9]+)(\\.gz)?$`);
  const names = [base, ...(await readdir(dir)).filter((n) => rotated.test(n))];
  const files: { path: string; mtime: number }[] = [];
  for (const name of names) {
    try {
      const s = await stat(join(dir, name));
      if (s.isFile() && s.mtimeMs >= sinceMs) files.push({ path: join(dir, name), mtime: s.mtimeMs });
    } catch (err) {
      // The live file may not exist yet (no queue call since install); a rotated one may have moved.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return files.sort((a, b) => a.mtime - b.mtime).map((f) => f.path);
}

/** Every complete line of a file, gunzipped when it ends in .gz; a last line without `\n` is still being written. */
export async function* fileLines(path: string): AsyncGenerator<string> {
  const raw = createReadStream(path);
  const input = path.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  const lines = createInterface({ input, crlfDelay: Infinity });
  try {
    for await (const line of lines) if (line !== '') yield line;
  } finally {
    lines.close();
    raw.destroy();
  }
}
