import { describe, expect, it } from 'vitest';
import { admin } from '../support/edge-harness.ts';
import { until } from '../support/wait.ts';
import type { EdgeRuntime } from './edges.ts';
import { runFault, sleep, type Injection } from './scenario.ts';
import { MAC, type CallStream, type Stack, type StackOptions } from './stack.ts';

/** The outbox seq a stream event's webhook-id ends with (`evt_<mac>_<epoch>_<seq>`); NaN for a backfilled one. */
const seqOf = (id: string): number => Number(id.split('_').at(-1));

/** The first event the receiver is sent after this is armed, not yet accepted: the head of the queue then. */
function headPicker(s: Stack) {
  let head: string | null = null;
  return (id: string): string | null => {
    if (head === null && !s.tally.has(id) && Number.isInteger(seqOf(id))) head = id;
    return head;
  };
}

const secs = (ms: number) => (ms / 1000).toFixed(1);

/**
 * A receiver whose handler fails on one event only: it answers 500 to that webhook-id, every time,
 * and 200 to everything else, while the stream goes on until `others` events were spooled after it.
 * The delivery must set the poison aside once it failed its third attempt (the one after the 5-minute
 * wait) and the receiver took the next event as a probe: the poison alone in dead letters with the
 * receiver's 500 as its reason, the rest delivered in order. Prints how long the poison held the
 * queue: from its first 500 to the next event delivered, on the delivery's clock.
 */
export function poisonFault(others: number, holdMs: number) {
  let poison: string | null = null;
  let answered500 = 0;
  return {
    async inject(s: Stack, calls: CallStream): Promise<Injection> {
      const pick = headPicker(s);
      let firstAt: number | null = null;
      let nextAt: number | null = null;
      let waiting = 0;
      s.setRespond((r) => {
        const id = String(r.headers['webhook-id']);
        poison = pick(id);
        if (id === poison) {
          answered500++;
          firstAt ??= s.deliveryClock.now();
          return { status: 500 };
        }
        if (poison !== null && nextAt === null && seqOf(id) > seqOf(poison)) {
          nextAt = s.deliveryClock.now();
          // What the poison held back, itself and the probe included.
          waiting = s.backlog();
        }
        return { status: 200 };
      });
      const id = await until(() => poison, 'an event to poison', 10_000);
      await until(() => s.generated() - seqOf(id) >= others, `${others} events spooled after the poison`, 60_000);
      await calls.stop();
      await until(() => nextAt !== null, 'the event after the poison delivered', holdMs);
      const held = firstAt === null ? null : nextAt! - firstAt;
      return {
        count: () => answered500,
        what: '500s answered to the poison',
        detail: () => (held === null ? 'never answered 500' : `held the queue ${secs(held)} s, from its first 500 to the next event delivered`),
        waiting,
        setAside: 1,
      };
    },
    async check(s: Stack): Promise<void> {
      const letters = await s.deadLetters();
      expect(letters.map((l) => l.webhookId), 'the poison alone in dead letters').toEqual([poison]);
      expect(letters[0]!.reason, "the dead letter's reason is the receiver's last answer").toMatch(/^receiver answered 500\b/);
      // The first, the one 5 s later, the one after the 5-minute wait: then the probe set it aside.
      expect(answered500, 'attempts of the poison before it was set aside').toBe(3);
    },
  };
}

/**
 * The edge restarted (or its device object evicted) while the head waits for its next attempt: the
 * receiver answers 500 to everything until the head failed `attempts` times, as the device status
 * counts them; then `restart`. After it the status must show the same attempt count and the same next
 * attempt time, the receiver must see no attempt of the head before that time, and then exactly one,
 * at it: attempt n+1. The receiver is back (200) once the restart was checked, before that time, so
 * attempt n+1 is the one it takes and the stream behind it flows (a failed n+1 would wait the next,
 * longer step). `slackMs` (delivery clock) bounds how late after its time attempt n+1 may come.
 */
export function restartMidSchedule(o: { attempts: number; restart: (s: Stack) => Promise<void>; slackMs: number }) {
  const n = o.attempts;
  const seen = {
    head: null as string | null,
    /** When the receiver got each attempt of the head, on the delivery clock. */
    headAt: [] as number[],
    before: null as { attempts: number; nextAttemptAt: string | null } | null,
    after: null as { attempts: number; nextAttemptAt: string | null } | null,
    /** Attempts of the head the receiver got before the restart. */
    atRestart: 0,
    /** Delivery-clock time the status was read back after the restart. */
    checkedAt: 0,
    /** Attempts of the head the receiver got between the restart and that check. */
    duringRestart: 0,
  };
  const due = () => Date.parse(seen.before!.nextAttemptAt!);
  return {
    async inject(s: Stack): Promise<Injection> {
      const pick = headPicker(s);
      let recovered = false;
      s.setRespond((r) => {
        const id = String(r.headers['webhook-id']);
        seen.head = pick(id);
        if (id === seen.head) seen.headAt.push(s.deliveryClock.now());
        return { status: recovered ? 200 : 500 };
      });
      const status = (what: string, ok: (d: NonNullable<Awaited<ReturnType<Stack['deliveryStatus']>>>) => boolean) =>
        until(
          async () => {
            await sleep(50);
            const d = await s.deliveryStatus().catch(() => null);
            return d && ok(d) ? d : undefined;
          },
          what,
          20_000,
        );
      seen.before = await status(`${n} failed attempts in the device status`, (d) => d.attempts === n && d.nextAttemptAt !== null && d.state === 'waiting');
      const drops = s.tunnelDrops;
      seen.atRestart = seen.headAt.length;
      await o.restart(s);
      await until(() => s.tunnelDrops > drops && s.agent.tunnel?.status === 'online', 'the agent to lose its tunnel and redial', 20_000);
      seen.after = await status('delivery waiting again after the restart', (d) => d.state === 'waiting');
      seen.checkedAt = s.deliveryClock.now();
      seen.duringRestart = seen.headAt.length - seen.atRestart;
      // Else the row would prove nothing: the next attempt came before the restart was over.
      expect(seen.checkedAt, 'the restart was over before the next attempt was due').toBeLessThan(due());
      const waiting = s.backlog();
      recovered = true;
      await until(() => s.tally.has(seen.head!), `attempt ${n + 1} of the head, at its time`, 60_000);
      return {
        count: () => s.tunnelDrops,
        what: 'tunnel drops seen by the agent',
        detail: () =>
          `status attempts ${seen.before!.attempts}/${seen.after!.attempts} before/after, next attempt time ${seen.before!.nextAttemptAt === seen.after!.nextAttemptAt ? 'the same' : 'changed'}, ` +
          `${secs(due() - seen.checkedAt)} s away then; attempt ${n + 1} came ${secs((seen.headAt[n] ?? NaN) - due())} s after it`,
        waiting,
      };
    },
    check(): void {
      const { before, after, headAt } = seen;
      expect(seen.atRestart, 'the receiver saw the head as often as the status counted').toBe(before!.attempts);
      expect({ attempts: after!.attempts, nextAttemptAt: after!.nextAttemptAt }, 'the schedule after the restart').toEqual({ attempts: n, nextAttemptAt: before!.nextAttemptAt });
      expect(seen.duringRestart, 'attempts of the head while restarting').toBe(0);
      expect(headAt, `attempts of the head: ${n}, then one at its time`).toHaveLength(n + 1);
      expect(headAt[n]!, `attempt ${n + 1} not before its time`).toBeGreaterThanOrEqual(due() - 100);
      expect(headAt[n]!, `attempt ${n + 1} at its time`).toBeLessThanOrEqual(due() + o.slackMs);
    },
  };
}

export interface DeliveryFaultsOptions {
  /** Scale of the poison row's path: its third attempt comes 5 minutes (scaled) after the second. */
  poisonScale: number;
  /** Real ms the poison may hold the queue before the row gives up. */
  poisonHoldMs: number;
  /** Where the edge's clock is real time (Workers): its retry waits times this, so the 5-minute step is short. */
  poisonRetryScale?: number;
  restartName: string;
  restartScale: number;
  /** Failed attempts before the restart: the next comes 5 s (after 1) or 5 minutes (after 2) later. */
  restartAfterAttempts: number;
  restart: (s: Stack) => Promise<void>;
  /** How late attempt n+1 may come after its time, on the delivery clock. */
  restartSlackMs: number;
}

/** The delivery's own faults through one edge runtime: a poison event, and a restart mid-schedule. */
export function deliveryFaults(file: string, edge: EdgeRuntime, o: DeliveryFaultsOptions): void {
  describe(`delivery faults under a steady stream of calls${edge.suffix}`, () => {
    it('one event the receiver always answers 500 to, among 500 others: set aside, the rest in order', () => {
      const p = poisonFault(500, o.poisonHoldMs);
      const opts: StackOptions = { scale: o.poisonScale, via: 'edge', edge, ...(o.poisonRetryScale ? { edgeRetryScale: o.poisonRetryScale } : {}) };
      return runFault(file, 'poison event among 500 others', opts, p.inject, p.check);
    }, o.poisonHoldMs + 90_000);

    it('restarted while the head waits for its next attempt: the schedule goes on at its time', () => {
      const r = restartMidSchedule({ attempts: o.restartAfterAttempts, restart: o.restart, slackMs: o.restartSlackMs });
      return runFault(file, o.restartName, { scale: o.restartScale, via: 'edge', edge }, r.inject, r.check);
    }, 120_000);
  });
}

/** The operator's restart of the device's Durable Object: its memory and timers gone, its storage kept. */
export async function evictDeviceObject(s: Stack): Promise<void> {
  const r = await admin(s.edge, 'POST', `/admin/devices/${MAC}/restart`);
  expect(r.status).toBe(202);
}
