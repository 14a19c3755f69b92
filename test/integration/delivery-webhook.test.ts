import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Delivery, type DeliveryOptions, type DeliveryStatus } from '../../shared/delivery/delivery.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { MemoryQueue } from '../support/memory-queue.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';

const MAC = '68:69:2e:03:8b:3e';
const S = 1000;
const H = 3600 * S;
const cleanup: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function receiver(respond?: ConstructorParameters<typeof WebhookReceiver>[0]): Promise<WebhookReceiver> {
  const r = await new WebhookReceiver(respond).start();
  cleanup.push(() => r.stop());
  return r;
}

function delivery(opts: Partial<DeliveryOptions> & Pick<DeliveryOptions, 'queue' | 'url'>): Delivery {
  const d = new Delivery({ mac: MAC, secret: 'whsec_' + Buffer.from('edge-secret-bytes').toString('base64'), random: () => 0.5, ...opts });
  cleanup.push(() => d.close());
  return d;
}

const events = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, k) => ({ type: k % 2 ? 'hangup' : 'dialbegein', body: JSON.stringify({ i: from + k, mac: MAC }) }));

/** Waits until the loop has settled on a retry: no request in flight, a retry time set. */
async function waitingStatus(d: Delivery): Promise<DeliveryStatus & { nextAttemptAt: number }> {
  return vi.waitFor(async () => {
    const s = await d.status();
    expect(s.state).toBe('waiting');
    return s as DeliveryStatus & { nextAttemptAt: number };
  });
}

/** Moves time to the pending retry; returns how long the loop chose to wait. */
async function nextRetry(d: Delivery, clock: ManualClock): Promise<number> {
  const at = (await waitingStatus(d)).nextAttemptAt;
  const wait = at - clock.now();
  clock.advanceTo(at);
  return wait;
}

describe('Delivery over HTTP', () => {
  it('POSTs every event once, in order, signed so the official library verifies it unchanged', async () => {
    const rx = await receiver();
    const queue = new MemoryQueue('lx1abc');
    queue.add(...events(1, 20));
    const secret = 'whsec_' + Buffer.from('edge-secret-bytes').toString('base64');
    const d = delivery({ queue, url: rx.url, secret, extraHeaders: () => ({ authorization: 'digest' }) });
    d.kick();
    await vi.waitFor(() => expect(rx.received).toHaveLength(20));
    queue.add(...events(21, 25));
    d.kick();
    await vi.waitFor(async () => expect((await d.status()).lastDeliveredSeq).toBe(25));

    expect(rx.order()).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    const wh = new Webhook(secret);
    rx.received.forEach((r, i) => {
      expect(r.headers['webhook-id']).toBe(`evt_68692e038b3e_lx1abc_${i + 1}`);
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers.authorization).toBe('digest');
      expect(wh.verify(r.body, r.headers as Record<string, string>)).toEqual({ i: i + 1, mac: MAC });
    });
    expect(await d.status()).toMatchObject({ state: 'idle', waiting: 0, lastError: null });
  });

  it('holds the queue in order while the receiver is refused and then failing, and delivers all once it is back', async () => {
    const clock = new ManualClock();
    // Four 500s once it is back: the head's 4th and 5th attempts, and the probes of event 2 after
    // each, which fail too (the receiver is down, not the head): nothing is set aside.
    let failing = 4;
    const rx = await receiver(() => (failing-- > 0 ? { status: 500 } : { status: 200 }));
    await rx.stop();
    const queue = new MemoryQueue();
    queue.add(...events(1, 3));
    const d = delivery({ queue, url: rx.url, clock });
    d.kick();

    // Refused: the schedule's first waits, and the queue stays whole.
    expect(await nextRetry(d, clock)).toBe(5 * S);
    const down = await d.status();
    expect(down).toMatchObject({ waiting: 3, headAttempts: 1 });
    expect(down.lastError?.message).toMatch(/cannot reach receiver/);
    expect(await nextRetry(d, clock)).toBe(5 * 60 * S);
    const before = await waitingStatus(d);
    queue.add(...events(4, 5));
    d.kick(); // new events do not jump the wait
    expect(await d.status()).toMatchObject({ state: 'waiting', nextAttemptAt: before.nextAttemptAt, waiting: 5 });

    await rx.start(); // back, but answering 500 four times
    expect(await nextRetry(d, clock)).toBe(30 * 60 * S);
    expect((await waitingStatus(d)).lastError).toMatchObject({ status: 500, message: 'receiver answered 500 Internal Server Error' });
    expect(await nextRetry(d, clock)).toBe(2 * H);
    expect(await nextRetry(d, clock)).toBe(5 * H);
    await vi.waitFor(async () => expect((await d.status()).lastDeliveredSeq).toBe(5));
    expect(rx.order()).toEqual([1, 2, 1, 2, 1, 2, 3, 4, 5]);
    expect(new Set(rx.received.filter((r) => JSON.parse(r.body).i === 1).map((r) => r.headers['webhook-id'])).size).toBe(1);
    expect(await d.status()).toMatchObject({ deadLetters: 0, waiting: 0 });
  });

  it('keeps retrying every 10 hours, never dropping the event', async () => {
    const clock = new ManualClock();
    const rx = await receiver(() => ({ status: 503 }));
    const queue = new MemoryQueue();
    queue.add(...events(1, 1));
    const d = delivery({ queue, url: rx.url, clock });
    d.kick();
    const waits: number[] = [];
    for (let i = 0; i < 9; i++) waits.push(await nextRetry(d, clock));
    expect(waits.slice(5)).toEqual([10 * H, 10 * H, 10 * H, 10 * H]);
    expect(await d.status()).toMatchObject({ waiting: 1, deadLetters: 0 });
  });

  it('waits as long as Retry-After asks on 429', async () => {
    const clock = new ManualClock();
    const rx = await receiver((_r, n) => (n === 0 ? { status: 429, headers: { 'retry-after': '120' } } : { status: 200 }));
    const queue = new MemoryQueue();
    queue.add(...events(1, 2));
    const d = delivery({ queue, url: rx.url, clock });
    d.kick();
    expect((await waitingStatus(d)).nextAttemptAt - clock.now()).toBe(120 * S);
    clock.advance(119 * S);
    expect(rx.received).toHaveLength(1);
    clock.advance(1 * S);
    await vi.waitFor(() => expect(rx.order()).toEqual([1, 1, 2]));
  });

  it('moves an event the receiver rejects three times to dead letters and goes on; redelivers it on request', async () => {
    const clock = new ManualClock();
    let accept2 = false;
    const rx = await receiver((r) => ((JSON.parse(r.body) as { i: number }).i === 2 && !accept2 ? { status: 400 } : { status: 200 }));
    const queue = new MemoryQueue();
    queue.add(...events(1, 4));
    const d = delivery({ queue, url: rx.url, clock });
    d.kick();
    await nextRetry(d, clock);
    await nextRetry(d, clock);
    await vi.waitFor(async () => expect((await d.status()).lastDeliveredSeq).toBe(4));
    expect(rx.order()).toEqual([1, 2, 2, 2, 3, 4]);
    const [letter] = await queue.listDeadLetters();
    expect(letter).toMatchObject({ seq: 2, reason: 'receiver answered 400 Bad Request 3 times in a row' });
    expect(await d.status()).toMatchObject({ deadLetters: 1, waiting: 0 });

    accept2 = true;
    expect(await d.redeliverDeadLetter(2)).toEqual({ kind: 'delivered', status: 200 });
    expect(rx.received.at(-1)!.headers['webhook-id']).toBe('evt_68692e038b3e_e1_2');
    expect((await d.status()).deadLetters).toBe(0);
  });

  it('stops on 410 Gone and says so, until the URL changes', async () => {
    const gone = await receiver(() => ({ status: 410 }));
    const queue = new MemoryQueue();
    queue.add(...events(1, 2));
    const d = delivery({ queue, url: gone.url });
    d.kick();
    await vi.waitFor(async () => expect((await d.status()).stopped).toBe('stopped: receiver answered 410 Gone: nobody takes events at this URL any more; set a new one'));
    queue.add(...events(3, 3));
    d.kick();
    expect(await d.status()).toMatchObject({ state: 'stopped', waiting: 3, nextAttemptAt: null });
    expect(gone.received).toHaveLength(1);

    const fresh = await receiver();
    d.setUrl(fresh.url);
    await vi.waitFor(() => expect(fresh.order()).toEqual([1, 2, 3]));
    expect((await d.status()).stopped).toBeNull();
  });

  it('stops at a redirect, saying where it points and what to fix, until the URL changes', async () => {
    const moved = await receiver(() => ({ status: 301, headers: { location: 'https://crm.example.com/hook?token=s3cret' } }));
    const queue = new MemoryQueue();
    queue.add(...events(1, 2));
    const d = delivery({ queue, url: moved.url });
    d.kick();
    const stopped = await vi.waitFor(async () => {
      const st = await d.status();
      expect(st.state).toBe('stopped');
      return st;
    });
    expect(stopped.stopped).toBe(
      'stopped: receiver answered 301 Moved Permanently, redirecting to https://crm.example.com/hook: webhooks do not follow redirects (a redirected POST becomes a GET); set the URL to where it points',
    );
    expect(stopped).toMatchObject({ waiting: 2, deadLetters: 0, nextAttemptAt: null, lastError: { status: 301 } });
    d.kick();
    expect(moved.received).toHaveLength(1);
    const fresh = await receiver();
    d.setUrl(fresh.url);
    await vi.waitFor(() => expect(fresh.order()).toEqual([1, 2]));
  });

  it('sets a poison event aside once the receiver takes the next one, and goes on in order', async () => {
    const clock = new ManualClock();
    // A CRM whose handler throws on one payload: 500 for event 2, every other event is taken.
    const rx = await receiver((r) => (JSON.parse(r.body).i === 2 ? { status: 500 } : { status: 200 }));
    const queue = new MemoryQueue();
    queue.add(...events(1, 6));
    const d = delivery({ queue, url: rx.url, clock });
    d.kick();
    expect(await nextRetry(d, clock)).toBe(5 * S);
    expect(await nextRetry(d, clock)).toBe(5 * 60 * S);
    // The 3rd attempt fails past the 5-minute step: event 3 goes once as a probe and is taken.
    await vi.waitFor(async () => expect((await d.status()).lastDeliveredSeq).toBe(6));
    expect(rx.order()).toEqual([1, 2, 2, 2, 3, 4, 5, 6]);
    const [letter] = await queue.listDeadLetters();
    expect(letter).toMatchObject({ seq: 2 });
    expect(letter!.reason).toBe('receiver answered 500 Internal Server Error on 3 attempts while the receiver took the next event (seq 3): set aside so the rest goes on');
    expect(await d.status()).toMatchObject({ state: 'idle', waiting: 0, deadLetters: 1 });
    expect(queue.retryState).toBeNull();
  });

  it('probes after timeouts too: a receiver that hangs on one event does not hold the others', async () => {
    const clock = new ManualClock();
    const rx = await receiver((r) => (JSON.parse(r.body).i === 1 ? 'hang' : { status: 200 }));
    const queue = new MemoryQueue();
    queue.add(...events(1, 3));
    const d = delivery({ queue, url: rx.url, clock, timeoutMs: 1000 });
    d.kick();
    for (const n of [1, 2, 3]) {
      await vi.waitFor(() => expect(rx.received).toHaveLength(n));
      clock.advance(1000);
      if (n < 3) await nextRetry(d, clock);
    }
    await vi.waitFor(async () => expect((await d.status()).lastDeliveredSeq).toBe(3));
    expect(rx.order()).toEqual([1, 1, 1, 2, 3]);
    expect((await queue.listDeadLetters())[0]?.reason).toMatch(/^receiver did not answer within 1 s on 3 attempts/);
  });

  it('goes on with the retry schedule where it was after a restart: attempt n+1, at its time', async () => {
    const clock = new ManualClock();
    let up = false;
    const rx = await receiver(() => ({ status: up ? 200 : 503 }));
    const queue = new MemoryQueue();
    queue.add(...events(1, 1));
    const first = delivery({ queue, url: rx.url, clock });
    first.kick();
    expect(await nextRetry(first, clock)).toBe(5 * S);
    const before = await waitingStatus(first);
    expect(before.headAttempts).toBe(2);
    await first.close();
    expect(queue.retryState).toMatchObject({ seq: 1, attempts: 2, nextAttemptAt: before.nextAttemptAt });

    clock.advance(60 * S); // the edge was down a minute
    const second = delivery({ queue, url: rx.url, clock });
    second.kick();
    const resumed = await waitingStatus(second);
    expect(resumed).toMatchObject({ headAttempts: 2, nextAttemptAt: before.nextAttemptAt, lastError: { status: 503 } });
    expect(rx.received).toHaveLength(2);
    up = true;
    clock.advanceTo(before.nextAttemptAt - 1);
    expect(rx.received).toHaveLength(2);
    clock.advanceTo(before.nextAttemptAt);
    await vi.waitFor(async () => expect((await second.status()).lastDeliveredSeq).toBe(1));
    expect(rx.received).toHaveLength(3);
    expect(queue.retryState).toBeNull();
  });

  it('counts a receiver that never answers as a failed attempt after 15 s', async () => {
    const clock = new ManualClock();
    const rx = await receiver((_r, n) => (n === 0 ? 'hang' : { status: 200 }));
    const queue = new MemoryQueue();
    queue.add(...events(1, 1));
    const d = delivery({ queue, url: rx.url, clock });
    d.kick();
    await vi.waitFor(() => expect(rx.received).toHaveLength(1));
    clock.advance(14.9 * S);
    expect((await d.status()).state).toBe('sending');
    clock.advance(0.1 * S);
    await vi.waitFor(async () => expect((await d.status()).lastError?.message).toBe('receiver did not answer within 15 s'));
    expect(await nextRetry(d, clock)).toBe(5 * S);
    await vi.waitFor(async () => expect((await d.status()).lastDeliveredSeq).toBe(1));
  });

  it('sends only the event types the device subscribed to', async () => {
    const rx = await receiver();
    const queue = new MemoryQueue();
    queue.add(...events(1, 6));
    const d = delivery({ queue, url: rx.url, types: ['hangup'] });
    d.kick();
    await vi.waitFor(async () => expect(await queue.depth()).toBe(0));
    expect(rx.order()).toEqual([2, 4, 6]);
  });

  it('replays from a sequence number in order', async () => {
    const rx = await receiver();
    const queue = new MemoryQueue();
    queue.add(...events(1, 4));
    const d = delivery({ queue, url: rx.url });
    d.kick();
    await vi.waitFor(() => expect(rx.received).toHaveLength(4));
    expect(await d.replayFrom(3)).toBe(3);
    await vi.waitFor(() => expect(rx.order()).toEqual([1, 2, 3, 4, 3, 4]));
  });
});
