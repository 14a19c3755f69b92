import { open, readFile } from 'node:fs/promises';
import { z } from 'zod';
import { gapBackfill } from '../../shared/tunnel/frames.ts';
import { parseJson } from '../json-file.ts';

/**
 * An interval (epoch ms) during which AMI could not be read, so its events were never seen, and
 * what the backfill from the box's records recovered of it.
 */
export interface Gap {
  from: number;
  to: number;
  backfill?: z.infer<typeof gapBackfill>;
}

const gapLine = z.object({ from: z.number(), to: z.number(), backfill: gapBackfill.optional() });

/** Gaps held in memory for status; older ones are only counted. */
const KEEP = 100;

/**
 * The record of what the agent could not see (AMI has no replay): appended and fsynced per gap, so
 * status after a restart still tells the operator about it.
 */
export class GapLog {
  private constructor(
    private readonly path: string,
    private recent: Gap[],
    private total: number,
  ) {}

  static async open(path: string): Promise<GapLog> {
    let gaps: Gap[] = [];
    try {
      const lines = (await readFile(path, 'utf8')).split('\n').slice(0, -1);
      // A gap's backfill result is a later line for the same gap: the last line of a gap wins.
      const byStart = new Map<number, Gap>();
      for (const l of lines) {
        const g = l === '' ? undefined : gapLine.safeParse(parseJson(l));
        if (g?.success) byStart.set(g.data.from, g.data);
      }
      gaps = [...byStart.values()];
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    // Gaps are rare (an AMI outage or an agent restart) and tens of bytes each: the file is never cut.
    return new GapLog(path, gaps.slice(-KEEP), gaps.length);
  }

  async record(from: number, to: number, backfill?: Gap['backfill']): Promise<void> {
    const gap: Gap = backfill ? { from, to, backfill } : { from, to };
    const fh = await open(this.path, 'a');
    try {
      await fh.writeFile(`${JSON.stringify(gap)}\n`);
      await fh.datasync();
    } finally {
      await fh.close();
    }
    const known = this.recent.findIndex((g) => g.from === from);
    if (known !== -1) {
      this.recent[known] = gap;
      return;
    }
    this.recent.push(gap);
    if (this.recent.length > KEEP) this.recent.shift();
    this.total++;
  }

  /** Gaps not yet backfilled (a restart in the middle of one runs it again: records sent are skipped). */
  pendingBackfill(): Gap[] {
    return this.recent.filter((g) => g.backfill === undefined || g.backfill.state === 'running');
  }

  /** The most recent gaps, oldest first, and how many were ever recorded. */
  snapshot(): { gaps: readonly Gap[]; count: number } {
    return { gaps: [...this.recent], count: this.total };
  }
}
