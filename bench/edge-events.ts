import { MemoryOutbox, ScriptedDevice, startAgent, type TestAgent } from '../test/support/edge-harness.ts';
import { benchMac } from './lib/bench-mac.ts';
import type { Benchmark } from './lib/benchmark.ts';
import { CountingReceiver } from './lib/receiver.ts';
import type { Results } from './lib/results.ts';
import { adminCall, spawnEdge, tempDir } from './lib/stack.ts';

export const DEVICES = 100;
const EVENTS_PER_DEVICE = 100;
const TARGET = 20_000;
const BODY = { event: 'hangup', uniqueid: '1762591289.101', channel: 'SIP/806-00000031', cause: '16', padding: 'x'.repeat(250) };

/** 100 tunnel clients, each with a prefilled in-memory outbox, through one edge to one receiver. */
export async function measureEdgeEvents(edgeUrl: string, receiver: CountingReceiver): Promise<{ events: number; ms: number }> {
  const tenant = (await adminCall(edgeUrl, 'POST', '/admin/tenants', { name: 'bench edge-events' })) as { id: string };
  const agents: TestAgent[] = [];
  try {
    const devices: { mac: string; token: string; outbox: MemoryOutbox }[] = [];
    for (let i = 0; i < DEVICES; i++) {
      const mac = benchMac(i);
      const d = (await adminCall(edgeUrl, 'PUT', `/admin/devices/${mac}`, { tenant: tenant.id, url: receiver.url })) as { token: string };
      const outbox = new MemoryOutbox(`bench${i}`);
      for (let n = 0; n < EVENTS_PER_DEVICE; n++) outbox.append('hangup', { ...BODY, mac, n });
      devices.push({ mac, token: d.token, outbox });
    }
    const total = DEVICES * EVENTS_PER_DEVICE;
    const target = receiver.count + total;
    const start = performance.now();
    for (const d of devices) agents.push(startAgent({ url: edgeUrl }, { mac: d.mac, token: d.token, device: new ScriptedDevice(), outbox: d.outbox }));
    await receiver.reached(target);
    return { events: total, ms: performance.now() - start };
  } finally {
    for (const a of agents) a.client.close();
  }
}

/** The floor: the same number of POSTs from 100 concurrent loops in one process, no edge between. */
export async function fetchFloor(receiver: CountingReceiver): Promise<{ events: number; ms: number }> {
  const body = JSON.stringify(BODY);
  const start = performance.now();
  await Promise.all(
    Array.from({ length: DEVICES }, async () => {
      for (let n = 0; n < EVENTS_PER_DEVICE; n++) {
        const res = await fetch(receiver.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        await res.body?.cancel();
      }
    }),
  );
  return { events: DEVICES * EVENTS_PER_DEVICE, ms: performance.now() - start };
}

export function reportEdgeEvents(results: Results, label: string, run: { events: number; ms: number }, floor: { events: number; ms: number }, target?: number): void {
  const rate = (r: { events: number; ms: number }) => r.events / (r.ms / 1000);
  const f = results.add({ name: `${label}: ${DEVICES} devices to one receiver`, value: rate(run), unit: 'events/s', baseline: rate(floor) });
  if (target !== undefined && f.value < target) results.note(`${label}: below the ${target.toLocaleString('en-US')} events/s target`);
}

export const edgeEventsBenchmark: Benchmark = {
  name: 'edge-events',
  description: 'events from 100 tunnelled devices through one Node edge process (committed, then delivered) to a webhook receiver',
  async run(results) {
    const tmp = tempDir('edge-events');
    const receiver = await new CountingReceiver().start();
    const edge = await spawnEdge(`${tmp.dir}/edge`);
    try {
      const run = await measureEdgeEvents(edge.url, receiver);
      const floor = await fetchFloor(receiver);
      reportEdgeEvents(results, 'edge events (Node edge)', run, floor, TARGET);
      results.add({ name: 'edge events: 100 fetch loops, no edge (floor)', value: floor.events / (floor.ms / 1000), unit: 'events/s' });
      results.note(`edge events: ${DEVICES} x ${EVENTS_PER_DEVICE} events, from tunnels opening to the last POST received; one run; baseline = 100 concurrent fetch loops from the bench process to the same receiver`);
    } finally {
      await edge.stop();
      await receiver.close();
      tmp.remove();
    }
  },
};
