import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterEach, expect, it, vi } from 'vitest';
import { startLanDelivery, type LanDelivery } from '../../agent/delivery-lan.ts';
import { Outbox } from '../../agent/outbox/outbox.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';

const MAC = '68:69:2e:03:8b:3e';
const WEBKEY = 'ab#cd;1';
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const event = (i: number) => ({ type: 'hangup', body: JSON.stringify({ event: 'hangup', i, mac: MAC }) });

it('pushes the outbox signed with the WEBKEY, with the box Authorization, and after a restart goes on with the retry schedule', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lan-delivery-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  let down = true;
  const rx = await new WebhookReceiver(() => ({ status: down ? 503 : 204 })).start();
  cleanup.push(() => rx.stop());
  // 23:30 UTC on 2024-05-01 is already 2 May in Shanghai: the digest uses the box's date.
  const clock = new ManualClock(Date.parse('2024-05-01T23:30:00Z'));
  const start = (outbox: Outbox): LanDelivery => {
    const lan = startLanDelivery({ outbox, url: rx.url, mac: MAC, secret: null, webkey: WEBKEY, timeZone: 'Asia/Shanghai', clock });
    cleanup.push(() => lan.close());
    return lan;
  };

  let outbox = await Outbox.open({ dir });
  cleanup.push(() => outbox.close());
  let lan = start(outbox);
  await outbox.appendMany([event(1), event(2)]);
  const failed = await vi.waitFor(async () => {
    const st = await lan.delivery.status();
    expect(st.state).toBe('waiting');
    return st;
  });
  expect(rx.received).toHaveLength(1);

  // The agent restarts while the receiver is down; the events wait on disk.
  await lan.close();
  await outbox.close();
  outbox = await Outbox.open({ dir });
  cleanup.push(() => outbox.close());
  down = false;
  lan = start(outbox);
  await outbox.appendMany([event(3)]);
  // The retry state was on disk: the head's second attempt keeps its time, 5 s after the first.
  await vi.waitFor(async () => expect(await lan.delivery.status()).toMatchObject({ state: 'waiting', headAttempts: 1, nextAttemptAt: failed.nextAttemptAt }));
  expect(rx.received).toHaveLength(1);
  clock.advanceTo(failed.nextAttemptAt!);
  await vi.waitFor(() => expect(rx.received.filter((r) => r.headers['webhook-id']).length).toBe(4));
  await vi.waitFor(() => expect(outbox.stats().waiting).toBe(0));

  expect(rx.order()).toEqual([1, 1, 2, 3]);
  const ids = rx.received.map((r) => r.headers['webhook-id']);
  expect(ids[0]).toBe(ids[1]);
  expect(ids[3]).toBe(`evt_68692e038b3e_${outbox.epoch}_3`);
  const digest = createHash('md5').update(`${WEBKEY}2024-05-02`).digest('hex');
  const wh = new Webhook('whsec_' + Buffer.from(WEBKEY).toString('base64'));
  for (const r of rx.received) {
    expect(r.headers.authorization).toBe(digest);
    // The library checks the timestamp against the real clock; the signature covers the one sent.
    const headers = r.headers as Record<string, string>;
    const signed = wh.sign(headers['webhook-id']!, new Date(Number(headers['webhook-timestamp']) * 1000), r.body);
    expect(headers['webhook-signature']).toBe(signed);
  }
});

it('sets a poison event aside in the dead-letter file once the receiver takes the next one, across a restart', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lan-poison-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const rx = await new WebhookReceiver((r) => ({ status: (JSON.parse(r.body) as { i: number }).i === 2 ? 500 : 204 })).start();
  cleanup.push(() => rx.stop());
  const clock = new ManualClock();
  const start = (outbox: Outbox): LanDelivery => {
    const lan = startLanDelivery({ outbox, url: rx.url, mac: MAC, secret: 'whsec_' + Buffer.from('k').toString('base64'), webkey: null, timeZone: 'UTC', clock });
    cleanup.push(() => lan.close());
    return lan;
  };
  const waiting = async (lan: LanDelivery) =>
    vi.waitFor(async () => {
      const st = await lan.delivery.status();
      expect(st.state).toBe('waiting');
      return st;
    });
  let outbox = await Outbox.open({ dir });
  cleanup.push(() => outbox.close());
  let lan = start(outbox);
  await outbox.appendMany([1, 2, 3, 4].map(event));
  clock.advanceTo((await waiting(lan)).nextAttemptAt!);
  await vi.waitFor(() => expect(rx.order()).toEqual([1, 2, 2]));
  // The agent restarts in the 5-minute wait: the third attempt keeps its time, and the probe follows it.
  const before = await waiting(lan);
  await lan.close();
  await outbox.close();
  outbox = await Outbox.open({ dir });
  cleanup.push(() => outbox.close());
  lan = start(outbox);
  expect((await waiting(lan)).nextAttemptAt).toBe(before.nextAttemptAt);
  clock.advanceTo(before.nextAttemptAt!);
  await vi.waitFor(() => expect(outbox.stats().waiting).toBe(0));
  expect(rx.order()).toEqual([1, 2, 2, 2, 3, 4]);
  const [letter] = await outbox.listDeadLetters();
  expect(letter).toMatchObject({ seq: 2 });
  expect(letter!.reason).toMatch(/^receiver answered 500 Internal Server Error on 3 attempts while the receiver took the next event \(seq 3\)/);
  expect(await outbox.loadRetryState()).toBeNull();
});
