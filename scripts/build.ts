import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

/**
 * Bundles the agent into one JavaScript file that runs with plain `node` on a PBX: no npm install,
 * no compiler, no native module there (PBX distributions are old and have neither).
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const outfile = process.argv[2] ?? `${root}dist/coocenter-agent.mjs`;

await build({
  entryPoints: [`${root}agent/main.ts`],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  minify: false,
  sourcemap: false,
  legalComments: 'none',
  // ws loads these optional native speed-ups in a try/catch; the agent runs without them.
  external: ['bufferutil', 'utf-8-validate'],
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
  logLevel: 'warning',
});
console.log(`built ${outfile}`);
