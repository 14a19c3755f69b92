import { appendFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GapLog } from '../../agent/outbox/gap-log.ts';
import { Outbox, type OutboxOptions } from '../../agent/outbox/outbox.ts';

let dir: string;
const open: Outbox[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'outbox-'));
});
afterEach(async () => {
  for (const box of open.splice(0)) await box.close();
  await rm(dir, { recursive: true, force: true });
});

async function openBox(opts: Partial<OutboxOptions> = {}): Promise<Outbox> {
  const box = await Outbox.open({ dir, ...opts });
  open.push(box);
  return box;
}

async function reopen(box: Outbox, opts: Partial<OutboxOptions> = {}): Promise<Outbox> {
  await box.close();
  open.splice(open.indexOf(box), 1);
  return openBox(opts);
}

const ev = (i: number, type = 'hangup') => ({ type, body: JSON.stringify({ event: type, i }) });
const bodies = (entries: readonly { body: string }[]) => entries.map((e) => (JSON.parse(e.body) as { i: number }).i);
const segmentFiles = async () => (await readdir(dir)).filter((n) => n.startsWith('seg-'));

describe('Outbox', () => {
  it('keeps what was appended and not acknowledged across a reopen, with the same epoch and seqs', async () => {
    let box = await openBox();
    expect(await box.appendMany([ev(1), ev(2), ev(3)])).toEqual([1, 2, 3]);
    expect(await box.appendMany([ev(4), ev(5)])).toEqual([4, 5]);
    const first = await box.peek(3);
    expect(first.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(bodies(first)).toEqual([1, 2, 3]);
    await box.ack(2);
    const epoch = box.epoch;

    box = await reopen(box);
    expect(box.epoch).toBe(epoch);
    const rest = await box.peek(10);
    expect(rest.map((e) => [e.seq, e.epoch, e.type])).toEqual([
      [3, epoch, 'hangup'],
      [4, epoch, 'hangup'],
      [5, epoch, 'hangup'],
    ]);
    expect(box.stats()).toMatchObject({ waiting: 3, oldestSeq: 3, nextSeq: 6, dropped: 0 });
    expect(await box.appendMany([ev(6)])).toEqual([6]);
  });

  it('numbers concurrent appends in call order with no gap (group commit)', async () => {
    const box = await openBox();
    const calls = Array.from({ length: 20 }, (_, k) => box.appendMany([ev(2 * k), ev(2 * k + 1)]));
    const seqs = await Promise.all(calls);
    expect(seqs.flat()).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(bodies(await box.peek(100))).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  it('reads the waiting line across segments in windows after acks', async () => {
    const box = await openBox({ segmentBytes: 512, maxBytes: 1024 * 1024 });
    for (let i = 1; i <= 60; i++) await box.appendMany([ev(i)]);
    const seen: number[] = [];
    for (;;) {
      const page = await box.peek(7);
      if (page.length === 0) break;
      seen.push(...bodies(page));
      await box.ack(page.at(-1)!.seq);
    }
    expect(seen).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(await box.depth()).toBe(0);
  });

  it('ignores a torn last record on reopen and appends cleanly after it', async () => {
    let box = await openBox();
    await box.appendMany([ev(1), ev(2), ev(3)]);
    await box.close();
    open.splice(0);
    const [segment] = await segmentFiles();
    await appendFile(join(dir, segment!), '{"s":4,"t":"hangup","b":"{\\"i\\":');
    box = await openBox();
    expect(bodies(await box.peek(10))).toEqual([1, 2, 3]);
    expect(await box.appendMany([ev(4)])).toEqual([4]);
    expect(bodies(await box.peek(10))).toEqual([1, 2, 3, 4]);
  });

  it('reads ahead of the acknowledged head for the tunnel, in order across segments, while acks come in', async () => {
    const box = await openBox({ segmentBytes: 400, maxBytes: 1024 * 1024 });
    for (let i = 1; i <= 60; i++) await box.appendMany([ev(i)]);
    const sent: number[] = [];
    let after = 0;
    for (;;) {
      const batch = await box.readAfter(after, 7);
      if (batch.length === 0) break;
      sent.push(...bodies(batch));
      after = batch.at(-1)!.seq;
      // The edge acknowledges behind what was sent, as the tunnel sees it.
      if (after > 20) await box.ack(after - 20);
    }
    expect(sent).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(bodies(await box.peek(3))).toEqual([41, 42, 43]);
    expect(bodies(await box.readAfter(10, 2))).toEqual([41, 42]);
    expect(bodies(await box.readAfter(50, 100))).toEqual(Array.from({ length: 10 }, (_, i) => i + 51));
  });

  it('deletes segments whose entries are all acknowledged', async () => {
    let box = await openBox({ segmentBytes: 400, maxBytes: 1024 * 1024 });
    for (let i = 1; i <= 40; i++) await box.appendMany([ev(i)]);
    expect((await segmentFiles()).length).toBeGreaterThan(3);
    await box.ack(40);
    // Acks are written in the background (coalesced); persisted() is when they are on disk.
    await box.persisted();
    expect(await segmentFiles()).toHaveLength(1);
    expect(box.stats()).toMatchObject({ waiting: 0, oldestSeq: null, segments: 1 });
    box = await reopen(box, { segmentBytes: 400, maxBytes: 1024 * 1024 });
    expect(await box.appendMany([ev(41)])).toEqual([41]);
    expect(bodies(await box.peek(10))).toEqual([41]);
  });

  it('at the disk bound drops the oldest events, counts and logs them, and keeps the newest', async () => {
    const logs: Record<string, unknown>[] = [];
    let box = await openBox({ segmentBytes: 1024, maxBytes: 4096, log: (e) => logs.push(e) });
    for (let i = 1; i <= 200; i++) await box.appendMany([ev(i)]);
    const stats = box.stats();
    expect(stats.bytesOnDisk).toBeLessThanOrEqual(4096);
    expect(stats.dropped).toBeGreaterThan(0);
    expect(stats.dropped + stats.waiting).toBe(200);
    const waiting = await box.peek(1000);
    expect(bodies(waiting)).toEqual(Array.from({ length: stats.waiting }, (_, i) => stats.dropped + 1 + i));
    const dropLogs = logs.filter((l) => l.level === 'error');
    expect(dropLogs.reduce((n, l) => n + (l.count as number), 0)).toBe(stats.dropped);
    box = await reopen(box, { segmentBytes: 1024, maxBytes: 4096 });
    expect(box.stats().dropped).toBe(stats.dropped);
  });

  it('keeps dead letters listable across a reopen and lets them be removed', async () => {
    let box = await openBox();
    await box.appendMany([ev(1), ev(2), ev(3)]);
    const [head] = await box.peek(1);
    await box.deadLetter(head!, 'receiver answered 400 three times in a row');
    expect(await box.depth()).toBe(2);
    box = await reopen(box);
    expect(await box.deadLetterCount()).toBe(1);
    const [letter] = await box.listDeadLetters();
    expect(letter).toMatchObject({ seq: 1, type: 'hangup', body: ev(1).body, reason: 'receiver answered 400 three times in a row' });
    expect(bodies(await box.peek(10))).toEqual([2, 3]);
    expect(await box.removeDeadLetter(1)).toBe(true);
    expect(await box.deadLetterCount()).toBe(0);
  });

  it('replays acknowledged entries still on disk', async () => {
    const box = await openBox();
    await box.appendMany([ev(1), ev(2), ev(3), ev(4)]);
    await box.ack(4);
    expect(await box.replayFrom(2)).toBe(2);
    expect(bodies(await box.peek(10))).toEqual([2, 3, 4]);
  });
});

describe('GapLog', () => {
  it('reports recorded AMI gaps after a reopen', async () => {
    const path = join(dir, 'gaps.jsonl');
    const log = await GapLog.open(path);
    await log.record(1000, 5000);
    await log.record(9000, 9500);
    const again = await GapLog.open(path);
    expect(again.snapshot()).toEqual({ count: 2, gaps: [{ from: 1000, to: 5000 }, { from: 9000, to: 9500 }] });
  });
});
