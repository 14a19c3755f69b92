import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { NODE_RELEASES, nodeRelease, type NodeLine } from '../../scripts/node-binaries.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** What `npm run build` wrote: the .mjs, both executables, NODE-LICENSE. */
    buildDir: string;
    /** bin/node of each pinned Node line, fetched from the npm registry. */
    nodeBinaries: Record<NodeLine, string>;
  }
}

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Builds what an operator installs, as `npm run build` does, and copies the x64 executable alone into
 * an empty folder: the suite then runs it there with no node on PATH. Fetches the Node lines the
 * bundle and the edge are tested on.
 */
export default function setup(project: TestProject): () => void {
  const tmp = mkdtempSync(join(tmpdir(), 'coo-dist-'));
  const buildDir = join(tmp, 'build');
  execFileSync(process.execPath, ['bin/run-ts.js', 'scripts/build.ts', '--out', buildDir], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  const box = join(tmp, 'box');
  mkdirSync(box);
  copyFileSync(join(buildDir, 'coocenter-agent-linux-x64'), join(box, 'coocenter-agent'));
  project.provide('buildDir', buildDir);
  project.provide('agentExecutable', join(box, 'coocenter-agent'));
  project.provide('nodeBinaries', Object.fromEntries(Object.keys(NODE_RELEASES).map((l) => [l, nodeRelease(l as NodeLine).node])) as Record<NodeLine, string>);
  return () => rmSync(tmp, { recursive: true, force: true });
}
