import { open, readFile } from 'node:fs/promises';

/** An interval (epoch ms) during which AMI could not be read, so its events were never seen. */
export interface Gap {
  from: number;
  to: number;
}

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
      gaps = lines.filter((l) => l !== '').map((l) => JSON.parse(l) as Gap);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    // Gaps are rare (an AMI outage or an agent restart) and tens of bytes each: the file is never cut.
    return new GapLog(path, gaps.slice(-KEEP), gaps.length);
  }

  async record(from: number, to: number): Promise<void> {
    const gap: Gap = { from, to };
    const fh = await open(this.path, 'a');
    try {
      await fh.writeFile(`${JSON.stringify(gap)}\n`);
      await fh.datasync();
    } finally {
      await fh.close();
    }
    this.recent.push(gap);
    if (this.recent.length > KEEP) this.recent.shift();
    this.total++;
  }

  /** The most recent gaps, oldest first, and how many were ever recorded. */
  snapshot(): { gaps: readonly Gap[]; count: number } {
    return { gaps: [...this.recent], count: this.total };
  }
}
