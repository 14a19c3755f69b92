import { expect } from 'vitest';
import { until } from '../support/wait.ts';
import { recordInjected } from './injected.ts';
import { callStream, commandProbe, drained, rowOf, startStack, type CallStream, type Stack, type StackOptions } from './stack.ts';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Real ms a command may take during a fault before it counts as not answered in time. */
export const COMMAND_BOUND_MS = 5000;

/** Real ms every event must stay delivered with nothing new spooled before a row is counted (see drained). */
const QUIET_MS = 500;

/**
 * What a fault's `inject` tells of it: how much of the fault really happened, counted where it was
 * injected (the receiver, the proxy, what the agent saw of a restart), read once everything was
 * delivered; a row whose count is 0 fails, since a fault that injected nothing proves nothing.
 */
export interface Injection {
  count: () => number;
  /** What `count` counts, as the table prints it before the number. */
  what: string;
  /** More of what the fault did, read with the count, printed after it. */
  detail?: () => string;
  /**
   * `stack.backlog()` when the fault ended, on faults that must hold events back (a cut, a receiver
   * refusing them): 0 means the fault held nothing back, and fails the row. Not a proof the other
   * way: events merely in flight count too, so `count` is what shows the fault happened.
   */
  waiting?: number;
  /**
   * Events the fault is to have set aside as dead letters (a poison event): counted apart from lost,
   * and the row fails unless the delivery's own store lists exactly this many. 0 unless told: no
   * other fault may set anything aside.
   */
  setAside?: number;
  /** What a reader of the table must know about the row (a setting it ran with), printed under it. */
  note?: string;
}

/**
 * One fault under a steady stream of calls: traffic before, `inject` (which injects, lasts, heals
 * and tells what it injected), traffic after, then everything must arrive. Records the row and
 * asserts the targets, and that the fault happened, mid-stream: events were delivered before it
 * began, and of calls placed after it began.
 */
export async function runFault(
  file: string,
  fault: string,
  opts: StackOptions,
  inject: (s: Stack, calls: CallStream) => Promise<Injection>,
  check?: (s: Stack) => Promise<void> | void,
) {
  const stack = await startStack(opts);
  try {
    if (opts.via === 'edge') await until(() => stack.agent.tunnel?.status === 'online', 'the tunnel online');
    const calls = callStream(stack);
    await sleep(600);
    // Mid-stream by construction, on a slow box too: the fault waits for a first delivery.
    await until(() => stack.tally.delivered > 0, 'a first event delivered before the fault', 10_000);
    const probe = commandProbe(stack, COMMAND_BOUND_MS);
    const deliveredBefore = stack.tally.delivered;
    const callsBefore = calls.started;
    const injection = await inject(stack, calls);
    const healedAt = Date.now();
    const cmds = await probe.stop();
    await sleep(400);
    await calls.stop();
    const drainFrom = Date.now();
    const recovery = drainFrom + (await drained(stack, 60_000, QUIET_MS)) - healedAt;
    const deadLetters = await stack.deadLetters();
    const evidence = {
      injected: injection.count(),
      injectedWhat: injection.what,
      ...(injection.detail ? { injectedDetail: injection.detail() } : {}),
      deliveredBefore,
      // Not all that was delivered since: a call placed before the fault sends its last events later.
      deliveredAfter: stack.tally.deliveredOfCallsFrom(callsBefore),
      ...(injection.waiting === undefined ? {} : { waitingAtHeal: injection.waiting }),
      deadLettered: deadLetters.length,
    };
    const note = [opts.scale === 1 ? undefined : `time scale ${opts.scale} (durations are on the scaled clock)`, injection.note].filter((n) => n !== undefined).join('; ');
    const row = rowOf(stack, fault + stack.suffix, cmds, recovery, note || undefined, evidence);
    recordInjected(file, row);
    expect(row.deliveredBefore, `${fault}: no event delivered before the fault began: not mid-stream`).toBeGreaterThan(0);
    expect(row.deliveredAfter, `${fault}: no event delivered of a call placed after the fault began: not mid-stream`).toBeGreaterThan(0);
    if (row.waitingAtHeal !== undefined) expect(row.waitingAtHeal, `${fault}: no event held back when the fault ended`).toBeGreaterThan(0);
    expect(row.generated).toBeGreaterThan(0);
    expect(row.deadLettered, `${fault}: dead letters ${JSON.stringify(deadLetters.slice(0, 3))}`).toBe(injection.setAside ?? 0);
    expect(row.lost, `${fault}: events lost`).toBe(0);
    expect(row.outOfOrder, `${fault}: out of order`).toBe(0);
    expect(cmds.ok, `${fault}: commands answered in time ${JSON.stringify(cmds.notOk.slice(0, 5))}`).toBe(cmds.sent);
    await check?.(stack);
  } finally {
    await stack.close();
  }
}
