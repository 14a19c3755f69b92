import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Replaces a small file so that after a crash it holds either the old or the new content, never a
 * mix: write a temp file, fsync it, rename over, fsync the folder so the rename itself is on disk.
 */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await syncDir(dirname(path));
}

/** Makes a file's creation, rename or deletion durable (the folder entry lives in the folder). */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
