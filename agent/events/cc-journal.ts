import { mkdir, open, readdir, readFile, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { parseJson, readJsonFile } from '../json-file.ts';
import { writeFileAtomic } from '../outbox/atomic-file.ts';

/**
 * One input of the cc_cdr machine, as it was fed. `seq` is the outbox sequence number the input's
 * cc_cdr records were (or will be) given, so a replay after kill -9 appends only what the outbox
 * does not hold yet, under the same numbers: a receiver sees a duplicate only with the same webhook-id.
 */
const journalInput = z.discriminatedUnion('k', [
  z.object({ k: z.literal('ami'), t: z.number(), p: z.array(z.string()) }),
  z.object({ k: z.literal('seed'), items: z.array(z.array(z.string())) }),
  z.object({ k: z.literal('hints'), hints: z.array(z.object({ exten: z.string(), devices: z.string() })) }),
  z.object({ k: z.literal('wrapup'), callId: z.string(), secs: z.number(), iface: z.string().optional() }),
  z.object({ k: z.literal('expire'), t: z.number() }),
  /** Records rebuilt from the box's files after a gap, and the calls they finish (agent/backfill). */
  z.object({ k: z.literal('backfill'), events: z.array(z.object({ type: z.string(), body: z.string(), id: z.string() })), calls: z.array(z.string()) }),
]);
export type JournalInput = z.infer<typeof journalInput>;

const journalEntry = z.intersection(journalInput, z.object({ n: z.int(), seq: z.int() }));
export type JournalEntry = z.infer<typeof journalEntry>;

const snapshotFile = z.object({
  /** Last journal entry the state includes. */
  n: z.int(),
  /** The cc_cdr machine's state (agent/events/cc-cdr.ts restores it). */
  state: z.unknown(),
});

const PREFIX = 'journal-';

/**
 * Write-ahead journal plus periodic snapshot for the cc_cdr machine: every input is on disk before
 * its records are written to the outbox, so `kill -9` mid-call loses no call. A snapshot folds the
 * journal; older journal files are deleted once the snapshot that covers them is durable.
 */
export class CcJournal {
  private fh: FileHandle | null = null;
  private nextN: number;

  private constructor(
    private readonly dir: string,
    private snapshotN: number,
    private lastN: number,
  ) {
    this.nextN = lastN + 1;
  }

  static async open(dir: string): Promise<{ journal: CcJournal; state: unknown; replay: JournalEntry[] }> {
    await mkdir(dir, { recursive: true });
    const snap = await readJsonFile(join(dir, 'snapshot.json'), snapshotFile);
    const from = snap?.n ?? 0;
    const replay: JournalEntry[] = [];
    let last = from;
    for (const file of await journalFiles(dir)) {
      const lines = (await readFile(join(dir, file), 'utf8')).split('\n');
      for (const line of lines) {
        if (line === '') continue;
        const parsed = journalEntry.safeParse(parseJson(line));
        // A torn last line: that input's records were never written to the outbox either.
        if (!parsed.success) break;
        const entry = parsed.data;
        if (entry.n <= from) continue;
        replay.push(entry);
        last = Math.max(last, entry.n);
      }
    }
    const journal = new CcJournal(dir, from, last);
    return { journal, state: snap?.state ?? null, replay };
  }

  /** Numbers and durably writes inputs; resolves after fsync. */
  async append(inputs: (JournalInput & { seq: number })[]): Promise<void> {
    if (inputs.length === 0) return;
    this.fh ??= await open(join(this.dir, `${PREFIX}${String(this.nextN).padStart(12, '0')}.jsonl`), 'a');
    let text = '';
    for (const i of inputs) {
      const n = this.nextN++;
      text += JSON.stringify({ ...i, n }) + '\n';
    }
    this.lastN = this.nextN - 1;
    await this.fh.write(text);
    await this.fh.datasync();
  }

  get entriesSinceSnapshot(): number {
    return this.lastN - this.snapshotN;
  }

  /** Saves the machine state covering every entry so far, then deletes the journal it replaces. */
  async snapshot(state: unknown): Promise<void> {
    const n = this.lastN;
    const old = this.fh;
    this.fh = null;
    await old?.close();
    const covered = await journalFiles(this.dir);
    await writeFileAtomic(join(this.dir, 'snapshot.json'), JSON.stringify({ n, state } satisfies z.input<typeof snapshotFile>));
    this.snapshotN = n;
    for (const f of covered) await unlink(join(this.dir, f)).catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.fh?.close();
    this.fh = null;
  }
}

async function journalFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.startsWith(PREFIX) && f.endsWith('.jsonl')).sort();
}
