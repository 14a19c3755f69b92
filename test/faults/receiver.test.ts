import { describe, expect, it } from 'vitest';
import { poisonFault } from './delivery-faults.ts';
import { runFault, sleep } from './scenario.ts';

/**
 * The customer's receiver misbehaving, on the agent's own delivery (LAN mode: the same Delivery
 * loop the edge runs). Only the delivery clock is scaled, so the 5 min and 30 min retries come in
 * seconds while AMI runs in real time.
 */
const SCALE = 0.01;

describe('webhook receiver faults under a steady stream of calls', () => {
  it('answers 500 for 1 s', () =>
    runFault('receiver', 'receiver answers 500 (1 s)', { scale: 1, deliveryScale: SCALE, via: 'lan' }, async (s) => {
      s.setRespond(() => ({ status: 500 }));
      await sleep(1000);
      s.setRespond(() => ({ status: 200 }));
      return { count: () => s.receiver.answeredWith(500), what: '500s answered', waiting: s.backlog() };
    }));

  it('answers 429 with Retry-After: 120', () =>
    runFault('receiver', 'receiver answers 429, Retry-After 120 s', { scale: 1, deliveryScale: SCALE, via: 'lan' }, async (s) => {
      let told = 0;
      s.setRespond(() => (told++ < 3 ? { status: 429, headers: { 'retry-after': '120' } } : { status: 200 }));
      await sleep(1000);
      expect(told).toBeGreaterThan(0);
      return { count: () => s.receiver.answeredWith(429), what: '429s answered', waiting: s.backlog() };
    }));

  it('times out (holds requests open) for 1 s', () =>
    runFault('receiver', 'receiver times out (1 s)', { scale: 1, deliveryScale: SCALE, via: 'lan' }, async (s) => {
      s.setRespond(() => 'hang');
      await sleep(1000);
      s.setRespond(() => ({ status: 200 }));
      return { count: () => s.receiver.held, what: 'requests held until timeout', waiting: s.backlog() };
    }));

  it('answers 500 to one event only, every time, among 500 others: set aside, the rest in order', () => {
    const p = poisonFault(500, 30_000);
    return runFault('receiver', 'poison event among 500 others, on the agent\'s LAN delivery', { scale: 1, deliveryScale: SCALE, via: 'lan' }, p.inject, p.check);
  }, 120_000);

  it('down (connection refused) for 10 minutes, scaled', () =>
    runFault('receiver', 'receiver down 10 min', { scale: 1, deliveryScale: 0.005, via: 'lan' }, async (s) => {
      await s.receiver.stop();
      await sleep(600_000 * 0.005);
      const waiting = s.backlog();
      await s.receiver.start();
      // A closed port answers nothing the receiver could count: the refusals are the agent's failed attempts.
      return { count: s.refusedAttempts, what: 'attempts refused', waiting };
    }));
});
