import { describe, expect, it } from 'vitest';
import { until } from '../support/wait.ts';
import { runFault, sleep } from './scenario.ts';

/** 2 minutes of fault at 1/20 speed: 6 real seconds, with heartbeats and backoff on the same clock. */
const LONG_SCALE = 0.05;

describe('tunnel faults under a steady stream of calls', () => {
  it('TCP reset, refused for 1 s', () =>
    runFault('tunnel', 'tunnel cut: TCP reset, 1 s', { scale: 1, via: 'edge' }, async (s) => {
      s.proxy.reset();
      await sleep(1000);
      s.proxy.heal();
    }));

  it('silent black hole for 1 s', () =>
    runFault('tunnel', 'tunnel cut: black hole, 1 s', { scale: 1, via: 'edge' }, async (s) => {
      s.proxy.blackHole();
      await sleep(1000);
      s.proxy.heal();
    }));

  it('TCP reset, refused for 2 minutes (scaled)', () =>
    runFault('tunnel', 'tunnel cut: TCP reset, 2 min', { scale: LONG_SCALE, via: 'edge' }, async (s) => {
      s.proxy.reset();
      await sleep(120_000 * LONG_SCALE);
      s.proxy.heal();
    }));

  it('silent black hole for 2 minutes (scaled): the heartbeat notices, the agent redials', () =>
    runFault('tunnel', 'tunnel cut: black hole, 2 min', { scale: LONG_SCALE, via: 'edge' }, async (s) => {
      s.proxy.blackHole();
      await until(() => s.agent.tunnel?.status !== 'online', 'the agent to notice the silence', 120_000 * LONG_SCALE);
      await sleep(120_000 * LONG_SCALE);
      s.proxy.heal();
    }));

  it('the edge restarted', () =>
    runFault('tunnel', 'edge restarted (1 s down)', { scale: 1, via: 'edge' }, async (s) => {
      await s.restartEdge(1000);
      await until(() => s.agent.tunnel?.status === 'online', 'the agent back online', 15_000);
    }));

  it('Asterisk restarted and refusing connections for 2 s: the gap is reported', () =>
    runFault(
      'tunnel',
      'Asterisk restarted, refusing 2 s',
      { scale: 1, via: 'edge' },
      async (s) => {
        await s.restartSim(2000);
        await until(() => s.agent.ami.status === 'ready', 'AMI logged in again', 15_000);
      },
      async (s) => {
        const status = await until(async () => {
          // Polled gently: the device's rate limit counts these too.
          await sleep(100);
          const r = await fetch(`${s.edge.url}/devices/68:69:2e:03:8b:3e/status`, { headers: { authorization: `Bearer ${s.tenantKey}` } });
          const b = (await r.json()) as { gaps: { from: number; to: number | null }[] };
          return r.status === 200 && b.gaps.some((g) => g.to !== null) ? b : undefined;
        }, 'the gap in the device status');
        const gap = status.gaps.find((g) => g.to !== null)!;
        expect(gap.to! - gap.from).toBeGreaterThanOrEqual(1500);
      },
    ));
});
