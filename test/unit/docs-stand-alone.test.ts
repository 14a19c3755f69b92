import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/*
 * The repository stands alone: its code and docs cite its own documents (docs/api.md for the
 * contract, docs/webhooks.md, docs/edge.md, ...), never a file kept beside it. This test reads every
 * tracked text file for citations of documents that are not in the repository, and every relative
 * link of the docs for a file that does not exist.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** This file names what it looks for, so it is not read. */
const SELF = 'test/unit/docs-stand-alone.test.ts';
/** Recorded sessions and other data, quoted as they were captured. */
const SKIPPED_DIRS = ['test/fixtures/'];

interface Rule {
  pattern: RegExp;
  why: string;
}

const RULES: Rule[] = [
  { pattern: /\b(?:SPEC|TOOLCHAIN|DESIGN|STYLE)\.md\b/i, why: 'names a document that is not in the repository' },
  // The whole upper-case word only: RANGE_SPEC, SPEC_EXAMPLE and `spec` as a variable do not match.
  { pattern: /\bSPEC\b/, why: 'cites SPEC as a document; cite docs/api.md "<heading>" instead' },
  { pattern: /\/work\/shared\b/, why: 'points at a folder outside the repository' },
];

/** `../shared`, `../../shared/...`: fine while it resolves inside the repository (the shared/ folder). */
const PARENT_SHARED = /(?:\.\.\/)+shared\b/g;

/** What in one file cites something outside the repository: `<path>:<line>: <why>: <text>`. */
function outsideCitations(path: string, text: string): string[] {
  const found: string[] = [];
  const dir = dirname(resolve(ROOT, path));
  text.split('\n').forEach((line, i) => {
    const at = `${path}:${i + 1}`;
    for (const rule of RULES) if (rule.pattern.test(line)) found.push(`${at}: ${rule.why}: ${line.trim()}`);
    for (const m of line.matchAll(PARENT_SHARED)) {
      const target = relative(ROOT, resolve(dir, m[0]));
      if (target.startsWith('..') || isAbsolute(target)) found.push(`${at}: ${m[0]} leaves the repository: ${line.trim()}`);
    }
  });
  return found;
}

/** Fenced blocks and inline code hold examples, not links. */
function withoutCode(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** Relative links (`[text](path)`, `![alt](path)`, `[ref]: path`) of a Markdown file whose target is missing. */
function brokenLinks(path: string, markdown: string, exists: (repoPath: string) => boolean): string[] {
  const text = withoutCode(markdown);
  const targets = [
    ...[...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+["'(][^)]*)?\)/g)].map((m) => m[1]!),
    ...[...text.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1]!),
  ];
  const broken: string[] = [];
  for (const target of targets) {
    // Web addresses, mail, and links within the same page are not files.
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#') || target.startsWith('/')) continue;
    const file = decodeURIComponent(target.split(/[#?]/, 1)[0]!);
    const repoPath = relative(ROOT, resolve(dirname(resolve(ROOT, path)), file));
    if (repoPath.startsWith('..') || isAbsolute(repoPath)) broken.push(`${path}: ${target} points outside the repository`);
    else if (!exists(repoPath)) broken.push(`${path}: ${target} does not exist`);
  }
  return broken;
}

function trackedTextFiles(): { path: string; text: string }[] {
  const listed = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).split('\0');
  const files: { path: string; text: string }[] = [];
  for (const path of listed) {
    if (path === '' || path === SELF || SKIPPED_DIRS.some((d) => path.startsWith(d))) continue;
    const full = join(ROOT, path);
    // Listed but deleted in the working tree, or a symlink: nothing of its own to read.
    if (!existsSync(full) || !lstatSync(full).isFile()) continue;
    const bytes = readFileSync(full);
    if (bytes.subarray(0, 8192).includes(0)) continue; // binary
    files.push({ path, text: bytes.toString('utf8') });
  }
  return files;
}

describe('the repository stands alone', () => {
  it('flags citations of documents outside it, and only those', () => {
    expect(outsideCitations('agent/x.ts', '// as SPEC.md says')).toHaveLength(2);
    expect(outsideCitations('agent/x.ts', '// (SPEC "Delivery")')).toHaveLength(1);
    expect(outsideCitations('docs/x.md', "the SPEC's 403")).toHaveLength(1);
    expect(outsideCitations('docs/x.md', 'see TOOLCHAIN.md, DESIGN.md or style.md')).toHaveLength(1);
    expect(outsideCitations('docs/x.md', 'read /work/shared/spec/')).toHaveLength(1);
    expect(outsideCitations('README.md', 'the contract: ../shared/contract.md')).toHaveLength(1);
    expect(outsideCitations('docs/x.md', '[contract](../../shared/contract.md)')).toHaveLength(1);

    expect(outsideCitations('shared/http/range.ts', 'const RANGE_SPEC = /^(\\d*)-(\\d*)$/; RANGE_SPEC.exec(first)')).toEqual([]);
    expect(outsideCitations('test/unit/x.test.ts', 'const c = parseConfig(SPEC_EXAMPLE);')).toEqual([]);
    expect(outsideCitations('agent/lan-app.ts', 'const spec = agentOpenApi(AGENT_VERSION); // the spec of the API')).toEqual([]);
    expect(outsideCitations('agent/ops/hangup.ts', "import { ApiError } from '../../shared/errors.ts';")).toEqual([]);
    expect(outsideCitations('agent/lan-app.ts', "import { ApiError } from '../shared/errors.ts';")).toEqual([]);
    expect(outsideCitations('docs/x.md', 'docs/api.md "Scoped tokens"')).toEqual([]);
  });

  it('no tracked text file cites a document outside the repository', () => {
    const files = trackedTextFiles();
    expect(files.length).toBeGreaterThan(100);
    expect(files.flatMap((f) => outsideCitations(f.path, f.text))).toEqual([]);
  });

  it('finds broken relative links, and leaves web links, anchors and code alone', () => {
    const have = new Set(['docs/webhooks.md', 'docs/toolbar.png', 'deploy/manager.conf.example']);
    const exists = (p: string) => have.has(p);
    expect(brokenLinks('docs/x.md', '[w](webhooks.md#2-idempotency) ![t](toolbar.png) [m](../deploy/manager.conf.example)', exists)).toEqual([]);
    expect(brokenLinks('README.md', '[w](docs/webhooks.md "title") [s](https://example.com/x.md) [a](#top) [@](mailto:a@b.c)', exists)).toEqual([]);
    expect(brokenLinks('docs/x.md', '```js\nf[0](gone.md)\n```\n`[c](gone.md)`', exists)).toEqual([]);
    expect(brokenLinks('docs/x.md', '[g](gone.md) and\n[ref]: ../nowhere/x.md', exists)).toEqual(['docs/x.md: gone.md does not exist', 'docs/x.md: ../nowhere/x.md does not exist']);
    expect(brokenLinks('README.md', '[s](../shared/contract.md)', exists)).toEqual(['README.md: ../shared/contract.md points outside the repository']);
  });

  it('every relative link of README.md and docs/*.md reaches a file of the repository', () => {
    const docs = readdirSync(join(ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`);
    const exists = (p: string) => existsSync(join(ROOT, p));
    const broken = ['README.md', ...docs].flatMap((p) => brokenLinks(p, readFileSync(join(ROOT, p), 'utf8'), exists));
    expect(broken).toEqual([]);
  });
});
