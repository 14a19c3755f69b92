import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BenchError } from './bench-error.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A process a benchmark started and measures from outside, through /proc. */
export interface Child {
  readonly proc: ChildProcess;
  readonly pid: number;
  /** The first stdout line that matched `ready`, as matched. */
  readonly ready: RegExpMatchArray;
  /** Resident set size now, in bytes (VmRSS). */
  rss(): number;
  /**
   * Its private part (RssAnon): memory only this process holds. The rest of VmRSS is file pages (the
   * Node binary's code and data), shared and given back under memory pressure.
   */
  rssAnon(): number;
  /** User + system CPU time used so far, in ms. */
  cpuMs(): number;
  /** Lines the child writes after it is ready, for the caller to watch. */
  onLine(listener: (line: string) => void): void;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  /** Stdout line that says the child is ready. */
  ready: RegExp;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** The program to run instead of this Node: another Node, or the agent's single executable. */
  executable?: string;
  /** Where the child writes a V8 CPU profile when it exits (bench/lib/cpu-profile.ts reads it). */
  cpuProfDir?: string;
}

/** Clock ticks per second of /proc/<pid>/stat times; 100 on every Linux this runs on. */
const CLK_TCK = 100;

/**
 * Starts `node <args>` from the project root and resolves once it prints its ready line. The bench
 * measures the child, never itself, so its own load generator stays out of the figures.
 */
export function spawnNode(args: readonly string[], opts: SpawnOptions): Promise<Child> {
  // BENCH_CPU_PROF=<dir>: every child writes a V8 CPU profile there when it exits (node refuses
  // --cpu-prof in NODE_OPTIONS, so it goes on the command line).
  const prof = opts.cpuProfDir ?? process.env.BENCH_CPU_PROF;
  // A single executable takes its arguments as the agent's own, not Node's.
  const argv = prof && !opts.executable ? ['--cpu-prof', `--cpu-prof-dir=${prof}`, ...args] : args;
  const proc = spawn(opts.executable ?? process.execPath, argv, { cwd: ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const listeners = new Set<(line: string) => void>();
  let stderr = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-4000);
  });
  let buffered = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buffered += d;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) !== -1) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      for (const l of listeners) l(line);
    }
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return new Promise<Child>((resolve, reject) => {
    const timer = setTimeout(() => fail(`did not print ${opts.ready} within ${(opts.timeoutMs ?? 30_000) / 1000} s`), opts.timeoutMs ?? 30_000);
    const fail = (why: string) => {
      clearTimeout(timer);
      proc.kill('SIGKILL');
      reject(new BenchError(`child ${args.join(' ')} ${why}; stderr: ${stderr.trim()}`));
    };
    const early = (code: number | null) => fail(`exited with ${code} before it was ready`);
    proc.once('exit', early);
    const waitReady = (line: string) => {
      const m = line.match(opts.ready);
      if (!m) return;
      clearTimeout(timer);
      listeners.delete(waitReady);
      proc.off('exit', early);
      const pid = proc.pid!;
      resolve({
        proc,
        pid,
        ready: m,
        rss: () => rssOf(pid),
        rssAnon: () => rssOf(pid, 'RssAnon'),
        cpuMs: () => cpuMsOf(pid),
        onLine: (l) => void listeners.add(l),
        async stop() {
          if (proc.exitCode !== null || proc.signalCode !== null) return;
          proc.kill('SIGTERM');
          const killer = setTimeout(() => proc.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(killer);
        },
      });
    };
    listeners.add(waitReady);
  });
}

export function rssOf(pid: number, field: 'VmRSS' | 'RssAnon' = 'VmRSS'): number {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm'));
  if (!m) throw new BenchError(`no ${field} for process ${pid}`);
  return Number(m[1]) * 1024;
}

export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

/** The bare Node floor: a child that only keeps its event loop alive. */
export function spawnIdleNode(executable?: string): Promise<Child> {
  return spawnNode(['-e', 'setInterval(() => {}, 1000); console.log("idle")'], { ready: /^idle$/, ...(executable ? { executable } : {}) });
}
