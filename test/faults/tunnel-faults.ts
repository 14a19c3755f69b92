import { describe, expect, it } from 'vitest';
import { admin } from '../support/edge-harness.ts';
import { until } from '../support/wait.ts';
import type { EdgeRuntime } from './edges.ts';
import { runFault, sleep, type Injection } from './scenario.ts';
import { MAC, type Stack } from './stack.ts';

/** A TCP reset's count: the tunnel connections the proxy reset (the agent's redials it refused, in words). */
function resets(s: Stack): Injection {
  return { count: () => s.proxy.counts.resets, what: 'tunnel connections reset', detail: () => `redials refused: ${s.proxy.counts.refused}`, waiting: s.backlog() };
}

/** A black hole's count: the bytes the proxy held, both ways (the redials it held silent, in words). */
function held(s: Stack, waiting: number): Injection {
  return { count: () => s.proxy.counts.heldBytes, what: 'bytes held', detail: () => `redials held: ${s.proxy.counts.heldConnections}`, waiting };
}

/** 2 minutes of fault at 1/20 speed: 6 real seconds, with heartbeats and backoff on the same clock. */
export const LONG_SCALE = 0.05;

/**
 * The tunnel's faults under a steady stream of calls, against one edge runtime; `file` names the
 * figures file its rows go to.
 */
export function tunnelFaults(file: string, edge: EdgeRuntime): void {
  describe(`tunnel faults under a steady stream of calls${edge.suffix}`, () => {
    it('TCP reset, refused for 1 s', () =>
      runFault(file, 'tunnel cut: TCP reset, 1 s', { scale: 1, via: 'edge', edge }, async (s) => {
        s.proxy.reset();
        await sleep(1000);
        s.proxy.heal();
        return resets(s);
      }));

    it('silent black hole for 1 s', () =>
      runFault(file, 'tunnel cut: black hole, 1 s', { scale: 1, via: 'edge', edge }, async (s) => {
        s.proxy.blackHole();
        await sleep(1000);
        const waiting = s.backlog();
        s.proxy.heal();
        return held(s, waiting);
      }));

    it('TCP reset, refused for 2 minutes (scaled)', () =>
      runFault(file, 'tunnel cut: TCP reset, 2 min', { scale: LONG_SCALE, via: 'edge', edge }, async (s) => {
        s.proxy.reset();
        await sleep(120_000 * LONG_SCALE);
        s.proxy.heal();
        return resets(s);
      }));

    it('silent black hole for 2 minutes (scaled): the heartbeat notices, the agent redials', () =>
      runFault(file, 'tunnel cut: black hole, 2 min', { scale: LONG_SCALE, via: 'edge', edge }, async (s) => {
        s.proxy.blackHole();
        await until(() => s.agent.tunnel?.status !== 'online', 'the agent to notice the silence', 120_000 * LONG_SCALE);
        await sleep(120_000 * LONG_SCALE);
        const waiting = s.backlog();
        s.proxy.heal();
        return held(s, waiting);
      }));

    it('the edge restarted on the same storage', () =>
      runFault(file, 'edge restarted (1 s down)', { scale: 1, via: 'edge', edge }, async (s) => {
        await s.restartEdge(1000);
        // Back up: what the agent read while it was down waits in its outbox.
        const waiting = s.backlog();
        await until(() => s.agent.tunnel?.status === 'online', 'the agent back online', 15_000);
        return { count: () => s.tunnelDrops, what: 'tunnel drops seen by the agent', waiting };
      }));

    it('Asterisk restarted and refusing connections for 2 s: the gap is reported', () =>
      runFault(
        file,
        'Asterisk restarted, refusing 2 s',
        { scale: 1, via: 'edge', edge },
        async (s) => {
          await s.restartSim(2000);
          await until(() => s.agent.ami.status === 'ready', 'AMI logged in again', 15_000);
          // No event is read while AMI is down (the gap), so nothing is held back to count at heal.
          return { count: () => s.amiDrops, what: 'AMI drops seen by the agent' };
        },
        async (s) => {
          const status = await until(async () => {
            // Polled gently: the device's rate limit counts these too.
            await sleep(100);
            const r = await fetch(`${s.edge.url}/devices/${MAC}/status`, { headers: { authorization: `Bearer ${s.tenantKey}` } });
            const b = (await r.json()) as { gaps: { from: number; to: number | null }[] };
            return r.status === 200 && b.gaps.some((g) => g.to !== null) ? b : undefined;
          }, 'the gap in the device status');
          const gap = status.gaps.find((g) => g.to !== null)!;
          expect(gap.to! - gap.from).toBeGreaterThanOrEqual(1500);
        },
      ));
  });
}

/** The operator's reset of one Durable Object (in-memory state and sockets gone, storage kept). */
export function deviceObjectReset(file: string, edge: EdgeRuntime): void {
  it('the device object reset by the operator', () =>
    runFault(file, 'edge restarted: device object reset', { scale: 1, via: 'edge', edge }, async (s) => {
      const seen: string[] = [];
      const off = s.agent.tunnel!.onStatus((st) => seen.push(st));
      expect((await admin(s.edge, 'POST', `/admin/devices/${MAC}/restart`)).status).toBe(202);
      await until(() => seen.some((st) => st !== 'online') && seen.at(-1) === 'online', 'the agent to lose its tunnel and redial', 15_000);
      off();
      return { count: () => s.tunnelDrops, what: 'tunnel drops seen by the agent' };
    }));
}
