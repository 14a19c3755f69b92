import { describe, expect, it } from 'vitest';
import { ApiError } from '../../shared/errors.ts';
import { createMemoryIdempotencyStore, IDEMPOTENCY_TTL_MS, type StoredAnswer } from '../../shared/idempotency.ts';

function setup(maxEntries?: number) {
  let t = 1_000_000;
  const store = createMemoryIdempotencyStore({ now: () => t, maxEntries });
  let runs = 0;
  const act = (status = 200) => async (): Promise<StoredAnswer> => ({ status, body: { run: ++runs } });
  return { store, act, advance: (ms: number) => (t += ms), runs: () => runs };
}

describe('memory idempotency store', () => {
  it('answers a repeat within 10 minutes from the first run, and acts again after', async () => {
    const { store, act, advance, runs } = setup();
    const first = await store.once('dev\nhangup', 'k', 'p', act());
    advance(IDEMPOTENCY_TTL_MS - 1);
    expect(await store.once('dev\nhangup', 'k', 'p', act())).toEqual(first);
    expect(runs()).toBe(1);
    advance(1);
    expect(await store.once('dev\nhangup', 'k', 'p', act())).toEqual({ status: 200, body: { run: 2 } });
  });

  it('keeps scopes apart', async () => {
    const { store, act, runs } = setup();
    await store.once('a\nhangup', 'k', 'p', act());
    await store.once('b\nhangup', 'k', 'p', act());
    await store.once('a\ntransfer', 'k', 'p', act());
    expect(runs()).toBe(3);
  });

  it('lets repeats wait for a run in progress', async () => {
    const { store } = setup();
    let release!: (a: StoredAnswer) => void;
    let runs = 0;
    const slow = () => {
      runs++;
      return new Promise<StoredAnswer>((r) => (release = r));
    };
    const a = store.once('s', 'k', 'p', slow);
    const b = store.once('s', 'k', 'p', slow);
    release({ status: 200, body: 'done' });
    expect(await Promise.all([a, b])).toEqual([{ status: 200, body: 'done' }, { status: 200, body: 'done' }]);
    expect(runs).toBe(1);
  });

  it('refuses the same key with other parameters, naming Idempotency-Key', async () => {
    const { store, act } = setup();
    await store.once('s', 'k', 'p1', act());
    const err = await store.once('s', 'k', 'p2', act()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 400, field: 'Idempotency-Key' });
  });

  it('keeps 4xx answers but not 5xx nor thrown errors, so a retry can act', async () => {
    const { store, act, runs } = setup();
    await store.once('s', 'conflict', 'p', act(409));
    await store.once('s', 'conflict', 'p', act(409));
    expect(runs()).toBe(1);
    for (const status of [502, 503, 504]) {
      await store.once('s', `t${status}`, 'p', act(status));
      await store.once('s', `t${status}`, 'p', act(status));
    }
    expect(runs()).toBe(7);
    await expect(store.once('s', 'boom', 'p', async () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    await store.once('s', 'boom', 'p', act());
    expect(runs()).toBe(8);
  });

  it('stays bounded, dropping the oldest answers first', async () => {
    const { store, act, runs } = setup(3);
    for (const k of ['a', 'b', 'c', 'd']) await store.once('s', k, 'p', act());
    await store.once('s', 'd', 'p', act());
    expect(runs()).toBe(4);
    await store.once('s', 'a', 'p', act());
    expect(runs()).toBe(5);
  });
});
