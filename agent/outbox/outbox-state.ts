import { readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { parseRetryState, type RetryState } from '../../shared/delivery/retry-state.ts';
import { readJsonFile } from '../json-file.ts';
import { syncDir, writeFileAtomic } from './atomic-file.ts';

/** meta.json: the spool's epoch, written once when the spool is created. */
const metaFile = z.looseObject({ epoch: z.string().regex(/^[0-9a-z]+$/) });
/** state.json: how far the spool is acknowledged, and what the bound dropped; a value unreadable is 0. */
const stateFile = z.object({ acked: z.int().catch(0), dropped: z.int().catch(0) });
const RETRY_STATE_FILE = 'retry-state.json';

/**
 * The outbox's state beside its log: how far it is acknowledged (`acked`), how many undelivered
 * events the disk bound dropped, ever (`dropped`), in state.json; the spool's epoch in meta.json;
 * and the LAN delivery's retry schedule for the head in retry-state.json.
 */
export class OutboxState {
  private saved: Promise<void> = Promise.resolve();
  private saveQueued = false;

  private constructor(
    private readonly dir: string,
    /** Every seq up to this one is acknowledged (delivered, or dead-lettered, or dropped). */
    public acked: number,
    /** Undelivered events dropped by the disk bound, ever. */
    public dropped: number,
  ) {}

  static async open(dir: string): Promise<OutboxState> {
    const s = (await readJsonFile(join(dir, 'state.json'), stateFile)) ?? { acked: 0, dropped: 0 };
    return new OutboxState(dir, s.acked, s.dropped);
  }

  /**
   * Resolves once the state as it is now is on disk. Writes are chained so an older state never lands
   * after a newer one, and coalesced: while one is on disk, every later change shares one more.
   */
  save(): Promise<void> {
    if (!this.saveQueued) {
      this.saveQueued = true;
      this.saved = this.saved
        .catch(() => undefined)
        .then(() => {
          this.saveQueued = false;
          return writeFileAtomic(join(this.dir, 'state.json'), JSON.stringify({ acked: this.acked, dropped: this.dropped }));
        });
    }
    return this.saved;
  }

  /** Resolves once the last save asked for has landed (or failed). */
  async flushed(): Promise<void> {
    await this.saved;
  }

  /** The LAN delivery's retry schedule for the head (tunnel mode never writes it). */
  async loadRetryState(): Promise<RetryState | null> {
    try {
      return parseRetryState(await readFile(join(this.dir, RETRY_STATE_FILE), 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return null;
    }
  }

  async saveRetryState(state: RetryState | null): Promise<void> {
    const path = join(this.dir, RETRY_STATE_FILE);
    if (state !== null) return writeFileAtomic(path, JSON.stringify(state));
    try {
      await unlink(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return;
    }
    await syncDir(this.dir);
  }
}

/** The spool's epoch from meta.json, created (time-based) with a new spool. */
export async function readOrCreateEpoch(dir: string, now: () => number): Promise<string> {
  const path = join(dir, 'meta.json');
  const meta = await readJsonFile(path, metaFile);
  if (meta) return meta.epoch;
  // Time-based, so webhook-ids of a spool created anew never repeat those of the one before it.
  const epoch = now().toString(36);
  await writeFileAtomic(path, JSON.stringify({ version: 1, epoch }));
  return epoch;
}
