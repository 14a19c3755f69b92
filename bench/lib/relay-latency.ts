import type { AmiClient } from '../../agent/ami/client.ts';
import { lostKeptAlive } from '../../shared/node/http-post.ts';
import { Agent, request } from 'node:http';
import { BenchError } from './bench-error.ts';
import { openLoop, percentile } from './open-loop.ts';
import type { Results } from './results.ts';

export const RELAY_RATE = 1000;
/** Time per side, cut into interleaved slices so load from neighbours hits both sides alike. */
export const SLICES = 5;
export const SLICE_MS = 2000;
const WARMUP_MS = 1000;

export interface RelayFigures {
  relayed: number[];
  direct: number[];
  /** A request the edge answers at its door, before any device, tunnel or agent, when asked for. */
  door?: number[];
  /** The same relayed request by other routes (another edge, another instance), when asked for. */
  routes?: Record<string, number[]>;
  /** The same request through the bare relay of the same processes (bench/lib/bare-relay-child.ts), when asked for. */
  floor?: number[];
  rate?: number;
}

/** Where a relayed current-calls goes: an edge, the device, and the tenant's key there. */
export interface RelayRoute {
  edgeUrl: string;
  mac: string;
  tenantKey: string;
}

/**
 * current-calls relayed through an edge (REST -> edge -> tunnel -> agent -> AMI -> back), and the
 * same AMI action (CoreShowChannels) sent directly to the same simulator, each at RELAY_RATE.
 */
export async function measureRelay(
  o: RelayRoute & {
    direct: AmiClient;
    rate: number;
    doorPath?: string;
    /** Timed as more sides, interleaved with the others. */
    routes?: Record<string, RelayRoute>;
    /** Where the bare relay of the same processes listens. */
    floorUrl?: string;
  },
): Promise<RelayFigures> {
  const direct = () => o.direct.action({ Action: 'CoreShowChannels' });
  const out: RelayFigures = { relayed: [], direct: [] };
  const sides: [number[], () => Promise<unknown>][] = [
    [out.relayed, relayedVia(o)],
    [out.direct, direct],
  ];
  if (o.routes) {
    out.routes = {};
    for (const [name, route] of Object.entries(o.routes)) {
      const into: number[] = (out.routes[name] = []);
      sides.push([into, relayedVia(route)]);
    }
  }
  if (o.floorUrl) {
    out.floor = [];
    sides.push([out.floor, relayedVia({ edgeUrl: o.floorUrl, mac: o.mac, tenantKey: o.tenantKey })]);
  }
  if (o.doorPath) {
    const doorUrl = `${o.edgeUrl}${o.doorPath}`;
    out.door = [];
    sides.push([out.door, () => postJson(doorUrl, {})]);
  }
  for (const [, send] of sides) await openLoop(o.rate, WARMUP_MS, send);
  for (let i = 0; i < SLICES; i++) {
    // Each slice starts with another side, so load from neighbours hits every side alike.
    for (let k = 0; k < sides.length; k++) {
      const [into, send] = sides[(i + k) % sides.length]!;
      into.push(...(await openLoop(o.rate, SLICE_MS, send)));
    }
  }
  for (const [into] of sides) into.sort((a, b) => a - b);
  out.rate = o.rate;
  return out;
}

/** Sends one relayed current-calls by `r`; throws unless the agent answered with success. */
export function relayedVia(r: RelayRoute): () => Promise<void> {
  const url = `${r.edgeUrl}/devices/${r.mac}/coocenter-api/extensions/current-calls`;
  return async () => {
    const res = await postJson(url, { authorization: `Bearer ${r.tenantKey}` });
    let body: { status?: string } = {};
    try {
      body = JSON.parse(res.text) as { status?: string };
    } catch {
      // not JSON (a proxy's own page): said below with the text
    }
    if (res.status !== 200 || body.status !== 'success') throw new BenchError(`relayed current-calls via ${r.edgeUrl} answered ${res.status} ${res.text}`);
  };
}

/**
 * An empty POST over node:http with kept-alive sockets, as a CRM's HTTP client sends it. Node's fetch
 * costs the bench process several times the CPU per request, on the two cores the edge and the
 * agent share, and that cost is the client's, not what the relay adds.
 */
const keepAlive = new Agent({ keepAlive: true });
export function postJson(url: string, headers: Record<string, string>, again = false): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    // The retry takes a connection of its own: the pool's other idle ones may be closing too.
    const req = request(url, { method: 'POST', headers: { ...headers, 'content-length': '0' }, agent: again ? false : keepAlive }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    // A side waits out the other sides' slices, longer than the edge keeps an idle connection.
    req.on('error', (e: NodeJS.ErrnoException) => (!again && lostKeptAlive(req, e) ? resolve(postJson(url, headers, true)) : reject(e)));
    req.end();
  });
}

/** Registers p50 and p99 of a relay beside the direct action, and what the relay adds. */
export function reportRelay(results: Results, label: string, f: RelayFigures, targets?: { p50: number; p99: number }): void {
  for (const p of [50, 99]) {
    const relayed = percentile(f.relayed, p);
    const direct = percentile(f.direct, p);
    results.add({ name: `${label}: relayed p${p}`, value: relayed, unit: 'ms', baseline: direct, lowerIsBetter: true });
    const floorAdded = f.floor ? percentile(f.floor, p) - direct : undefined;
    if (floorAdded !== undefined) results.add({ name: `${label}: bare relay, same processes, added at p${p}`, value: floorAdded, unit: 'ms', lowerIsBetter: true });
    const added = results.add({ name: `${label}: added at p${p}`, value: relayed - direct, unit: 'ms', ...(floorAdded !== undefined ? { baseline: floorAdded } : {}), lowerIsBetter: true });
    if (f.door) results.add({ name: `${label}: answered at the door p${p}`, value: percentile(f.door, p), unit: 'ms', baseline: direct, lowerIsBetter: true });
    const target = p === 50 ? targets?.p50 : targets?.p99;
    if (target !== undefined && added.value > target) {
      const doorMs = f.door ? percentile(f.door, p) - percentile(f.direct, p) : undefined;
      const door =
        doorMs === undefined
          ? ''
          : `; a request answered at the edge's door, before any device or tunnel, added ${doorMs.toFixed(2)} ms there` +
            (doorMs >= target ? ', over the target by itself: the floor of the runtime as run here (bench/README.md, "Where the Workers edge\'s time goes")' : '');
      const floor =
        floorAdded === undefined
          ? ''
          : `; a bare relay through the same processes adds ${floorAdded.toFixed(2)} ms (${floorAdded >= target ? 'the target is below' : `${((100 * floorAdded) / target).toFixed(0)}% of the target is`} this machine's floor), the edge's code ${(added.value - floorAdded).toFixed(2)} ms (bench/README.md, "Where the Node edge's time goes")`;
      results.note(`${label}: p${p} added ${added.value.toFixed(2)} ms, over the ${target} ms target${door}${floor}`);
    }
  }
  results.note(`${label}: ${f.relayed.length.toLocaleString('en-US')} relayed and ${f.direct.length.toLocaleString('en-US')} direct requests at ${f.rate}/s (open loop, ${SLICES} interleaved slices of ${SLICE_MS / 1000} s each); baseline = direct CoreShowChannels to the same simulator`);
}
