import type { AmiClient } from '../../agent/ami/client.ts';
import { BenchError } from './bench-error.ts';
import { openLoop, percentile } from './open-loop.ts';
import type { Results } from './results.ts';

export const RELAY_RATE = 1000;
/** Time per side, cut into interleaved slices so load from neighbours hits both sides alike. */
const SLICES = 5;
const SLICE_MS = 2000;
const WARMUP_MS = 1000;

export interface RelayFigures {
  relayed: number[];
  direct: number[];
  rate?: number;
}

/**
 * current-calls relayed through an edge (REST -> edge -> tunnel -> agent -> AMI -> back), and the
 * same AMI action (CoreShowChannels) sent directly to the same simulator, each at RELAY_RATE.
 */
export async function measureRelay(o: { edgeUrl: string; mac: string; tenantKey: string; direct: AmiClient; rate: number }): Promise<RelayFigures> {
  const url = `${o.edgeUrl}/devices/${o.mac}/coocenter-api/extensions/current-calls`;
  const relayed = async () => {
    const res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${o.tenantKey}` } });
    const body = (await res.json()) as { status?: string };
    if (res.status !== 200 || body.status !== 'success') throw new BenchError(`relayed current-calls answered ${res.status} ${JSON.stringify(body)}`);
  };
  const direct = () => o.direct.action({ Action: 'CoreShowChannels' });
  await openLoop(o.rate, WARMUP_MS, relayed);
  await openLoop(o.rate, WARMUP_MS, direct);
  const out: RelayFigures = { relayed: [], direct: [] };
  for (let i = 0; i < SLICES; i++) {
    const sides: [keyof RelayFigures, () => Promise<unknown>][] = [
      ['relayed', relayed],
      ['direct', direct],
    ];
    if (i % 2 === 1) sides.reverse();
    for (const [name, send] of sides) (out[name] as number[]).push(...(await openLoop(o.rate, SLICE_MS, send)));
  }
  out.relayed.sort((a, b) => a - b);
  out.direct.sort((a, b) => a - b);
  out.rate = o.rate;
  return out;
}

/** Registers p50 and p99 of a relay beside the direct action, and what the relay adds. */
export function reportRelay(results: Results, label: string, f: RelayFigures, targets?: { p50: number; p99: number }): void {
  for (const p of [50, 99]) {
    const relayed = percentile(f.relayed, p);
    const direct = percentile(f.direct, p);
    results.add({ name: `${label}: relayed p${p}`, value: relayed, unit: 'ms', baseline: direct, lowerIsBetter: true });
    const added = results.add({ name: `${label}: added at p${p}`, value: relayed - direct, unit: 'ms', lowerIsBetter: true });
    const target = p === 50 ? targets?.p50 : targets?.p99;
    if (target !== undefined && added.value > target) results.note(`${label}: p${p} added ${added.value.toFixed(2)} ms, over the ${target} ms target`);
  }
  results.note(`${label}: ${f.relayed.length.toLocaleString('en-US')} relayed and ${f.direct.length.toLocaleString('en-US')} direct requests at ${f.rate}/s (open loop, ${SLICES} interleaved slices of ${SLICE_MS / 1000} s each); baseline = direct CoreShowChannels to the same simulator`);
}
