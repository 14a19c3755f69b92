import { expect, it } from 'vitest';
import type { Clock } from '../../shared/clock.ts';
import { Delivery } from '../../shared/delivery/delivery.ts';
import type { Queue, QueueEntry } from '../../shared/delivery/queue.ts';
import type { RetryState } from '../../shared/delivery/retry-state.ts';

it('after a restart the head keeps the exact next-attempt time it was saved with, however the clock moves meanwhile', async () => {
  // Every read of this clock is a millisecond later, as on a busy machine: a restored schedule
  // computed as a wait and added back to a second reading would move.
  let t = Date.parse('2026-12-01T10:00:00Z');
  const timers: number[] = [];
  const clock: Clock = { now: () => t++, setTimer: (ms) => {
    timers.push(ms);
    return () => {};
  } };
  const head: QueueEntry = { epoch: 'e1', seq: 7, type: 'hangup', body: '{}' };
  const saved: RetryState = { epoch: 'e1', seq: 7, attempts: 2, rejections: 0, nextAttemptAt: t + 300_000, lastError: { at: t - 5_000, status: 503, message: 'receiver answered 503' } };
  const queue: Queue = {
    peek: async () => [head],
    ack: async () => {},
    deadLetter: async () => {},
    depth: async () => 1,
    deadLetterCount: async () => 0,
    loadRetryState: async () => saved,
    saveRetryState: async () => {},
  };
  const posts: string[] = [];
  const delivery = new Delivery({
    queue, url: 'http://127.0.0.1:9/hook', mac: '00:11:22:33:44:55', secret: null, clock,
    fetch: async (input) => {
      posts.push(String(input));
      return new Response(null, { status: 200 });
    },
  });
  delivery.kick();
  await expect.poll(async () => (await delivery.status()).state).toBe('waiting');
  const st = await delivery.status();
  expect(st).toMatchObject({ nextAttemptAt: saved.nextAttemptAt, headAttempts: 2, lastError: { status: 503 } });
  expect(timers).toHaveLength(1);
  expect(posts).toEqual([]);
  await delivery.close();
});
