import { open, readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { DeadLetter } from '../../shared/delivery/queue.ts';
import { firstIssue, parseJson, StateFileError } from '../json-file.ts';
import { writeFileAtomic } from './atomic-file.ts';

/** One line of the file: a DeadLetter as `append` writes it. */
const deadLetterLine = z.object({
  epoch: z.string(),
  seq: z.int(),
  type: z.string(),
  body: z.string(),
  id: z.string().optional(),
  reason: z.string(),
  at: z.number(),
}) satisfies z.ZodType<DeadLetter>;

/**
 * Events a receiver refused, one JSON object per line, fsynced before the event leaves the queue.
 * Few by nature (a receiver that rejects everything answers 4xx to all, which an operator notices in
 * status long before this grows large), so the whole file is read to list them.
 */
export class DeadLetterFile {
  private constructor(
    private readonly path: string,
    private size: number,
  ) {}

  static async open(path: string): Promise<DeadLetterFile> {
    const f = new DeadLetterFile(path, 0);
    f.size = (await f.list()).length;
    return f;
  }

  get count(): number {
    return this.size;
  }

  async append(letter: DeadLetter): Promise<void> {
    const fh = await open(this.path, 'a');
    try {
      await fh.writeFile(`${JSON.stringify(letter)}\n`);
      await fh.datasync();
    } finally {
      await fh.close();
    }
    this.size++;
  }

  async list(): Promise<DeadLetter[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    // The last line may be torn by a crash mid-append: it was never reported as written.
    const lines = text.split('\n').slice(0, -1);
    return lines
      .filter((l) => l !== '')
      .map((l, i) => {
        const r = deadLetterLine.safeParse(parseJson(l));
        if (!r.success) throw new StateFileError(`${this.path}:${i + 1}`, firstIssue(r.error));
        return r.data;
      });
  }

  async remove(seq: number): Promise<boolean> {
    const letters = await this.list();
    const kept = letters.filter((d) => d.seq !== seq);
    if (kept.length === letters.length) return false;
    await writeFileAtomic(this.path, kept.map((d) => `${JSON.stringify(d)}\n`).join(''));
    this.size = kept.length;
    return true;
  }
}
