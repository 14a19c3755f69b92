import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, expect, it } from 'vitest';
import { Outbox } from '../../agent/outbox/outbox.ts';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('keeps every event reported as written when the writer is killed with SIGKILL', async () => {
  dir = await mkdtemp(join(tmpdir(), 'outbox-kill-'));
  const child = spawn(process.execPath, ['bin/run-ts.js', 'test/integration/outbox-writer.child.ts', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  const reported = new Map<number, number>();
  const lines = createInterface({ input: child.stdout });
  await new Promise<void>((resolve) => {
    lines.on('line', (line) => {
      const [seq, n] = line.split(' ').map(Number);
      reported.set(seq!, n!);
      // Killed mid-stream: the writers are still appending when the signal lands.
      if (reported.size === 2000) child.kill('SIGKILL');
    });
    lines.on('close', resolve);
  });
  expect(await exited).toBe('SIGKILL');
  expect(reported.size).toBeGreaterThanOrEqual(2000);

  const box = await Outbox.open({ dir, maxBytes: 1024 * 1024 * 1024 });
  try {
    const entries = await box.peek(1_000_000);
    const seqs = entries.map((e) => e.seq);
    const ns = entries.map((e) => (JSON.parse(e.body) as { n: number }).n);
    expect(seqs).toEqual(Array.from({ length: entries.length }, (_, i) => i + 1));
    // Appends were numbered in the order they were made: n rises with seq, so nothing is duplicated.
    for (let i = 1; i < ns.length; i++) expect(ns[i]).toBeGreaterThan(ns[i - 1]!);
    const bySeq = new Map(entries.map((e, i) => [e.seq, ns[i]]));
    for (const [seq, n] of reported) expect(bySeq.get(seq)).toBe(n);
    expect(await box.appendMany([{ type: 'hangup', body: '{}' }])).toEqual([entries.length + 1]);
  } finally {
    await box.close();
  }
});
