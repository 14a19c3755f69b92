import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sharesOf, type Categories, type Share } from './cpu-profile.ts';

/** Where a sample of a native process (workerd) goes, by its symbol and the file it is in. */
const CATEGORIES: Categories = [
  ['JavaScript (JIT-compiled: ours and miniflare\'s)', /^(\[JIT\]|perf-\d+\.map) /],
  ['kernel (syscalls, loopback TCP)', /^\[kernel/],
  ['SQLite', /sqlite3/i],
  ['V8 (the interpreter running JavaScript, built-ins, GC, compiler)', / (v8::|Builtins?_|Builtin:|cppgc::|Interpreter|heap::)/],
  ['the runtime\'s I/O and APIs (kj, capnp, workerd: HTTP, WebSocket, Headers, fetch)', / (kj::|capnp::|workerd::|edgeworker::)/],
  ['libc and the allocator', /^(libc|libm|libstdc|ld-linux)|malloc|free|memcpy|memmove|tcmalloc/],
];

export interface NativeProfile {
  samples: number;
  shares: Share[];
}

/**
 * `perf record` of process `pid` while `during` runs, by category; null when this machine cannot
 * (no perf, or the kernel refuses), so the bench still prints its figures without it.
 */
export async function perfWhile(pid: number, dir: string, during: () => Promise<unknown>): Promise<NativeProfile | null> {
  const file = join(dir, `perf-${pid}.data`);
  const rec = spawnSync('perf', ['--version'], { encoding: 'utf8' }).status === 0
    ? spawn('perf', ['record', '-F', '999', '-p', String(pid), '-o', file, '--quiet'], { stdio: 'ignore' })
    : null;
  const exited = rec ? new Promise<void>((resolve) => rec.once('exit', () => resolve())) : Promise.resolve();
  // perf writes its file's header once attached.
  for (let i = 0; rec && rec.exitCode === null && !existsSync(file) && i < 100; i++) await new Promise((r) => setTimeout(r, 20));
  try {
    await during();
  } finally {
    rec?.kill('SIGINT');
    await exited;
  }
  return rec && existsSync(file) ? report(file) : null;
}

function report(file: string): NativeProfile | null {
  const r = spawnSync('perf', ['report', '-i', file, '--stdio', '--sort', 'dso,sym', '--percent-limit', '0', '-F', 'overhead,sample,dso,sym'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) return null;
  const frames: [string, number][] = [];
  for (const line of r.stdout.split('\n')) {
    // "    12.34%          1234  workerd  [.] v8::internal::Heap::Scavenge"
    const m = /^\s*[\d.]+%\s+(\d+)\s+(.*)$/.exec(line);
    if (m) frames.push([m[2]!.replace(/\s+\[[.k]\]\s+/, ' ').trim(), Number(m[1])]);
  }
  const samples = frames.reduce((a, [, n]) => a + n, 0);
  return samples === 0 ? null : { samples, shares: sharesOf(frames, CATEGORIES, 'other') };
}
