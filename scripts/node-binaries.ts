import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The Node releases the project builds with and is tested on, pinned with their npm integrity.
 * They come from the npm registry's `node-linux-<arch>` packages (the official binaries, republished
 * there), the one download source the build machines reach.
 */
export const NODE_RELEASES = {
  /** Debian 12's Node line (FreePBX 17): too old for the .mjs, which must say so and stop. */
  '18': { version: '18.20.8', x64: 'sha512-JWUTwZ9vMOjZXMtiBc74OZn12DXb4skKfY4Nlyc17Ss8BTaxjwkXAw6xZb0Ck5afUYU/neBbrHjo9O3baF34ww==' },
  '22': { version: '22.23.5', x64: 'sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==' },
  '24': { version: '24.22.3', x64: 'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==' },
  /** The current LTS line: the one inside the agent's single executable. */
  '26': {
    version: '26.12.1',
    x64: 'sha512-jk5LMAmgHlPlPMWpsUrSOqNaEZG+11UNd35hWQ+p5/XGaelWuTqJ69IcAy/5xtPPN4d5ZRBNOGB6gLMCh2kL9A==',
    arm64: 'sha512-8Oxs6Y7rDcKufVIM/zYRSwytj46WOrZk7yFCLTKDcs17bBjAeD9HMAqo97hMfMyxozIud0S4vZCs5WB/3iavNQ==',
  },
} as const satisfies Record<string, { version: string; x64: string; arm64?: string }>;

export type NodeLine = keyof typeof NODE_RELEASES;
export type NodeArch = 'x64' | 'arm64';

/** The line whose Node the single executable carries. */
export const SEA_LINE: NodeLine = '26';

const root = fileURLToPath(new URL('..', import.meta.url));
export const NODE_CACHE = join(root, '.cache', 'node');

/**
 * The folder (bin/node, LICENSE) of a pinned Node release, fetched once into .cache/node with
 * `npm pack`, which checks the tarball against the registry's integrity; the pin is checked too, so
 * a registry that changed a published version is refused.
 */
export function nodeRelease(line: NodeLine, arch: NodeArch = 'x64'): { dir: string; node: string; version: string } {
  const release: { version: string; x64: string; arm64?: string } = NODE_RELEASES[line];
  const integrity = release[arch];
  if (!integrity) throw new Error(`no pinned Node ${line} for linux-${arch}`);
  const dir = join(NODE_CACHE, `node-linux-${arch}-${release.version}`);
  const node = join(dir, 'bin', 'node');
  if (existsSync(node)) return { dir, node, version: release.version };
  mkdirSync(NODE_CACHE, { recursive: true });
  const tmp = mkdtempSync(join(NODE_CACHE, '.fetch-'));
  try {
    const spec = `node-linux-${arch}@${release.version}`;
    const packed = JSON.parse(
      execFileSync('npm', ['pack', spec, '--json', '--pack-destination', tmp], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }),
    ) as { filename: string; integrity: string }[];
    const got = packed[0];
    if (!got || got.integrity !== integrity) throw new Error(`${spec}: integrity ${got?.integrity} is not the pinned ${integrity}`);
    const out = join(tmp, 'out');
    mkdirSync(out);
    execFileSync('tar', ['-xzf', join(tmp, got.filename), '-C', out, '--strip-components=1', 'package/bin/node', 'package/LICENSE']);
    try {
      renameSync(out, dir);
    } catch (e) {
      // Another build fetched it meanwhile: the same bytes, the first one stays.
      if (!existsSync(node)) throw e;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { dir, node, version: release.version };
}
