import { join } from 'node:path';
import type { Benchmark } from './lib/benchmark.ts';
import { spawnIdleNode, spawnNode, type Child } from './lib/child.ts';
import { CountingReceiver } from './lib/receiver.ts';
import { amiSession, spawnSim, tempDir, writeAgentConfig } from './lib/stack.ts';

/** Simulated calls per second; each inbound call makes about eight documented events. */
const CALLS_PER_SECOND = 12;
const LOAD_MS = 10_000;
const SETTLE_MS = 2_000;
const PHONES = ['800', '801', '802', '803', '804', '805', '806', '807'];
const MIB = 1024 * 1024;

export const agentRssBenchmark: Benchmark = {
  name: 'agent-rss',
  description: "the agent's RSS idle and while ~100 events/s flow to a LAN receiver, beside a bare node process",
  async run(results) {
    const tmp = tempDir('agent-rss');
    const stop: (() => Promise<void> | void)[] = [];
    try {
      const receiver = await new CountingReceiver().start();
      stop.push(() => receiver.close());
      // Calls run 10x faster than real time, so many overlap as on a busy call center.
      const sim = await spawnSim(0.1);
      stop.push(() => sim.stop());
      const bare: Child = await spawnIdleNode();
      stop.push(() => bare.stop());
      // Measured as a PBX runs it: the one-file bundle of `npm run build` on plain node, no TypeScript loader.
      const bundle = join(tmp.dir, 'coocenter-agent.mjs');
      const build = await spawnNode(['bin/run-ts.js', 'scripts/build.ts', '--out', tmp.dir, '--mjs-only'], { ready: /^built / });
      await build.stop();
      const agent = await spawnNode([bundle, '--config', writeAgentConfig({ dir: tmp.dir, amiPort: sim.port, url: receiver.url })], { ready: /^agent ready/ });
      stop.push(() => agent.stop());
      const driver = await amiSession(sim.port);
      stop.push(() => driver.close());

      await new Promise((r) => setTimeout(r, SETTLE_MS));
      const idle = agent.rss();
      const floor = bare.rss();

      const samples: number[] = [];
      const before = receiver.count;
      const start = performance.now();
      let call = 0;
      while (performance.now() - start < LOAD_MS) {
        const due = Math.floor(((performance.now() - start) * CALLS_PER_SECOND) / 1000);
        for (; call < due; call++) {
          const to = PHONES[call % PHONES.length]!;
          void driver.action({ Action: 'SimInboundCall', From: `1380013${String(call % 10000).padStart(4, '0')}`, To: to, TalkTime: '2000', HangupAfter: '3000' }).catch(() => {});
        }
        if (samples.length < Math.floor((performance.now() - start) / 1000)) samples.push(agent.rss());
        await new Promise((r) => setTimeout(r, 20));
      }
      const rate = (receiver.count - before) / (LOAD_MS / 1000);
      samples.sort((a, b) => a - b);
      const loaded = samples[samples.length - 1]!;

      results.add({ name: 'agent RSS: idle', value: idle / MIB, unit: 'MiB (lower is better)', baseline: floor / MIB, lowerIsBetter: true });
      results.add({ name: 'agent RSS: under load (max)', value: loaded / MIB, unit: 'MiB (lower is better)', baseline: floor / MIB, lowerIsBetter: true });
      results.add({ name: 'agent RSS: bare node process', value: floor / MIB, unit: 'MiB (lower is better)', lowerIsBetter: true });
      results.add({ name: 'agent RSS: events delivered under load', value: rate, unit: 'events/s' });
      results.note(`agent RSS: VmRSS of the bundled agent (dist file on plain node; LAN mode, fsynced outbox, signed POSTs) after ${SETTLE_MS / 1000} s idle, then the highest of one sample a second during ${LOAD_MS / 1000} s of ${CALLS_PER_SECOND} simulated calls/s; baseline = a bare \`node -e setInterval\` child`);
    } finally {
      for (const s of stop.reverse()) await s();
      tmp.remove();
    }
  },
};
