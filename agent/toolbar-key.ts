import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The key the agent signs toolbar tokens with: 32 random bytes in the spool, made on first start
 * and kept, so tokens outlive a restart (agents keep the page open all day). Deleting the file
 * signs every toolbar out at the next restart.
 */
export async function loadToolbarKey(spool: string): Promise<Uint8Array> {
  const file = join(spool, 'toolbar.key');
  const existing = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return null;
    throw e;
  });
  if (existing !== null && /^[0-9a-f]{64}$/.test(existing.trim())) return Buffer.from(existing.trim(), 'hex');
  const key = randomBytes(32);
  await writeFile(file, key.toString('hex'), { mode: 0o600 });
  return key;
}
