import { expect } from 'vitest';
import { until } from '../support/wait.ts';
import { recordRow } from './figures.ts';
import { callStream, commandProbe, drained, rowOf, startStack, type Stack, type StackOptions } from './stack.ts';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Real ms a command may take during a fault before it counts as not answered in time. */
export const COMMAND_BOUND_MS = 5000;

/**
 * One fault under a steady stream of calls: traffic before, `inject` (which injects, lasts and
 * heals), traffic after, then everything must arrive. Records the row and asserts the targets.
 */
export async function runFault(file: string, fault: string, opts: StackOptions, inject: (s: Stack) => Promise<void>, check?: (s: Stack) => Promise<void> | void) {
  const stack = await startStack(opts);
  try {
    if (opts.via === 'edge') await until(() => stack.agent.tunnel?.status === 'online', 'the tunnel online');
    const calls = callStream(stack);
    await sleep(600);
    const probe = commandProbe(stack, COMMAND_BOUND_MS);
    await inject(stack);
    const healedAt = Date.now();
    const cmds = await probe.stop();
    await sleep(400);
    await calls.stop();
    await drained(stack);
    const recovery = Date.now() - healedAt;
    const row = rowOf(stack, fault + stack.suffix, cmds, recovery, opts.scale === 1 ? undefined : `time scale ${opts.scale} (durations are on the scaled clock)`);
    recordRow(file, row);
    expect(row.generated).toBeGreaterThan(0);
    expect(row.lost, `${fault}: events lost`).toBe(0);
    expect(row.outOfOrder, `${fault}: out of order`).toBe(0);
    expect(cmds.ok, `${fault}: commands answered in time ${JSON.stringify(cmds.worst.filter((r) => r.status !== 200).slice(0, 3))}`).toBe(cmds.sent);
    await check?.(stack);
  } finally {
    await stack.close();
  }
}
