import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BenchError } from './bench-error.ts';

/** The parts of a V8 `.cpuprofile` (`node --cpu-prof`) read here. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string } }[];
  samples: number[];
  timeDeltas: number[];
}

/** A category of samples and its share of them, in percent. */
export interface Share {
  label: string;
  pct: number;
}

/** The first category whose pattern matches a frame names where its samples go. */
export type Categories = readonly [label: string, match: RegExp][];

/** Shares of weighted frames (time, or sample counts), by category, largest first. */
export function sharesOf(frames: Iterable<[frame: string, weight: number]>, categories: Categories, other: string): Share[] {
  const byLabel = new Map<string, number>();
  let total = 0;
  for (const [frame, weight] of frames) {
    const label = categories.find(([, re]) => re.test(frame))?.[0] ?? other;
    byLabel.set(label, (byLabel.get(label) ?? 0) + weight);
    total += weight;
  }
  return [...byLabel].map(([label, w]) => ({ label, pct: (100 * w) / total })).sort((a, b) => b.pct - a.pct);
}

/** Where a sample's own time goes, by its innermost frame's function name and file. */
const CATEGORIES: Categories = [
  ['idle', /^\(idle\) /],
  ['GC', /^\(garbage collector\) /],
  ['SQLite', /better-sqlite3|node:sqlite|sqlite-(better|node)\.ts|sql-store\.ts|group-commit\.ts/],
  ['socket writes', /^(writev|writeBuffer|writeUtf8String|writeLatin1String|writeAsciiString) |stream_base_commons/],
  ['HTTP (node:http, Hono, the webhook client)', /node:_http_|node:http |node:https |@hono|\/hono\/|http-post\.ts|urlToHttpOptions|shared\/api\/|edge\/core\/routes\//],
  ['tunnel (ws, frames, zod)', /\/ws\/lib\/|shared\/tunnel\/|\/zod\/|tunnel-(session|device)\.ts|hub\.ts/],
  ['webhook signing', /node:internal\/crypto|signature\.ts|hmac-signer\.ts/],
  ['AbortSignals and delivery', /shared\/delivery\/|edge\/core\/(deliveries|device-queue)\.ts|abort_controller|event_target/],
];

/**
 * The profile of the child's main thread, of those it wrote into `dir` when it exited: the busiest
 * (tsx's module loader runs on a thread of its own, which writes one too).
 */
export function readProfile(dir: string): CpuProfile {
  const profiles = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile);
  if (profiles.length === 0) throw new BenchError(`no CPU profile in ${dir}`);
  return profiles.reduce((a, b) => (busyUs(b) > busyUs(a) ? b : a));
}

function busyUs(p: CpuProfile): number {
  const idle = new Set(p.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  return p.samples.reduce((sum, id, i) => (idle.has(id) ? sum : sum + p.timeDeltas[i]!), 0);
}

const SLICE_US = 250_000;

/**
 * Shares of the process's time, by category, over its longest run of busy quarter-seconds (idle
 * less than `maxIdle` of each): the measured load, without the start-up's module compiling or the
 * idle wait after.
 */
export function busiestShares(p: CpuProfile, maxIdle = 0.3): { windowMs: number; shares: Share[] } {
  const frames = new Map(p.nodes.map((n) => [n.id, `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url}`]));
  const at: number[] = [];
  let t = 0;
  for (const d of p.timeDeltas) at.push((t += d));
  const slices = new Map<number, { all: number; idle: number }>();
  p.samples.forEach((id, i) => {
    const s = slices.get(Math.floor(at[i]! / SLICE_US)) ?? { all: 0, idle: 0 };
    s.all += p.timeDeltas[i]!;
    if (frames.get(id)!.startsWith('(idle) ')) s.idle += p.timeDeltas[i]!;
    slices.set(Math.floor(at[i]! / SLICE_US), s);
  });
  let best: [number, number] = [0, -1];
  let run: [number, number] | null = null;
  for (const k of [...slices.keys()].sort((a, b) => a - b)) {
    const s = slices.get(k)!;
    if (s.idle / s.all >= maxIdle) {
      run = null;
      continue;
    }
    run = run && run[1] === k - 1 ? [run[0], k] : [k, k];
    if (run[1] - run[0] > best[1] - best[0]) best = run;
  }
  if (best[1] < best[0]) throw new BenchError('the profile has no busy quarter-second');
  const [lo, hi] = [best[0] * SLICE_US, (best[1] + 1) * SLICE_US];
  const inWindow = p.samples.flatMap((id, i): [string, number][] => (at[i]! >= lo && at[i]! < hi ? [[frames.get(id)!, p.timeDeltas[i]!]] : []));
  return { windowMs: (hi - lo) / 1000, shares: sharesOf(inWindow, CATEGORIES, 'other (our code, promises, timers, Node)') };
}

/** `SQLite 18%, socket writes 16%, ...` */
export function formatShares(shares: readonly Share[]): string {
  return shares.map((s) => `${s.label} ${s.pct.toFixed(0)}%`).join(', ');
}
