import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isBuiltin } from 'node:module';
import { build, type Plugin } from 'esbuild';
import { AGENT_V8_FLAGS } from './agent-v8-flags.ts';
import { nodeRelease, SEA_LINE, type NodeArch } from './node-binaries.ts';

/**
 * Builds the agent for a PBX:
 * - `coocenter-agent.mjs`: one JavaScript file for a box that has Node 20.19 or later;
 * - `coocenter-agent-linux-x64` and `-linux-arm64`: single executables (Node's SEA) with the current
 *   LTS Node inside, for the boxes that have no usable Node (Debian 12's is 18), nothing to install;
 * - `NODE-LICENSE`: Node's licence, which goes with every copy of an executable.
 *
 * Usage: build.ts [--out DIR] [--mjs-only] [--arch x64,arm64]
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: { out: { type: 'string', default: join(root, 'dist') }, 'mjs-only': { type: 'boolean', default: false }, arch: { type: 'string', default: 'x64,arm64' } },
});
const out = resolve(values.out);

mkdirSync(out, { recursive: true });
const mjs = join(out, 'coocenter-agent.mjs');

// Stops an old Node with the fix instead of a crash deep inside (Node 18 dies on the missing
// global `crypto`). It runs before the bundle's code: only built-in modules are imported above it.
const nodeGuard = `{ const [maj, min] = process.versions.node.split('.').map(Number);
  if (maj < 20 || (maj === 20 && min < 19)) {
    process.stderr.write('coocenter-agent.mjs needs Node 20.19 or later; this is Node ' + process.versions.node + '.\\n' +
      'Install the single executable coocenter-agent-linux-x64 instead: it needs no Node (docs/install-agent.md).\\n');
    process.exit(2);
  } }`;

/**
 * Node's built-in modules through require(), never an ES import: an import takes every export of
 * the module, and Node 26's node:http exports undici's WebSocket, so importing it loads Node's fetch
 * (19 MiB of the executable's memory, bench agent-rss); require() reads only what the code uses.
 */
const builtinsByRequire: Plugin = {
  name: 'builtins-by-require',
  setup(b) {
    b.onResolve({ filter: /^[a-z_:/]+$/ }, (a) => {
      if (!isBuiltin(a.path)) return undefined;
      // The require() below is Node's own.
      return a.namespace === 'builtin' ? { path: a.path, external: true } : { path: a.path, namespace: 'builtin' };
    });
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (a) => ({ contents: `module.exports = require(${JSON.stringify(a.path)});`, loader: 'js' }));
  },
};

await build({
  entryPoints: [join(root, 'agent/main.ts')],
  outfile: mjs,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // No comments and no indentation: V8 holds the whole source for lazy compilation, and a single
  // non-ASCII character in a dependency's comment made it a two-byte string (5.4 MiB instead of 2.1).
  // Names stay, so a stack trace still names its functions.
  minifyWhitespace: true,
  sourcemap: false,
  legalComments: 'none',
  // ws loads these optional native speed-ups in a try/catch; the agent runs without them.
  external: ['bufferutil', 'utf-8-validate'],
  plugins: [builtinsByRequire],
  banner: {
    js: `#!/usr/bin/env node\nimport { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);\n${nodeGuard}`,
  },
  logLevel: 'warning',
});
console.log(`built ${mjs}`);

if (!values['mjs-only']) {
  for (const arch of values.arch.split(',') as NodeArch[]) buildExecutable(arch);
  copyFileSync(join(nodeRelease(SEA_LINE).dir, 'LICENSE'), join(out, 'NODE-LICENSE'));
}

/**
 * One single executable: the .mjs as the main module of a copy of Node. Node 26 writes it itself
 * (`--build-sea`), from any host Node binary into one of another architecture when neither snapshot
 * nor code cache is used. The copy is stripped of its debug symbols where `strip` reads that
 * architecture (a third smaller; a crash report still names JavaScript frames).
 */
function buildExecutable(arch: NodeArch): void {
  const host = nodeRelease(SEA_LINE).node;
  const target = nodeRelease(SEA_LINE, arch);
  const tmp = mkdtempSync(join(out, '.sea-'));
  try {
    const base = join(tmp, 'node');
    copyFileSync(target.node, base);
    const stripped = spawnSync(arch === process.arch ? 'strip' : 'aarch64-linux-gnu-strip', [base], { stdio: 'ignore' }).status === 0;
    const output = join(out, `coocenter-agent-linux-${arch}`);
    const config = join(tmp, 'sea.json');
    writeFileSync(
      config,
      JSON.stringify({
        main: mjs,
        mainFormat: 'module',
        executable: base,
        output,
        disableExperimentalSEAWarning: true,
        useSnapshot: false,
        useCodeCache: false,
        execArgv: AGENT_V8_FLAGS,
      }),
    );
    execFileSync(host, ['--build-sea', config], { stdio: ['ignore', 'ignore', 'inherit'] });
    console.log(`built ${output} (Node ${target.version}${stripped ? ', stripped' : ''})`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
