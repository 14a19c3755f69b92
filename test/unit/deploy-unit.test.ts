import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AGENT_ENV, AGENT_V8_FLAGS } from '../../scripts/agent-v8-flags.ts';

/**
 * deploy/coocenter-agent.service, checked the way systemd reads it and for what an operator relies on.
 */
const UNIT_FILE = new URL('../../deploy/coocenter-agent.service', import.meta.url);
const UNIT = readFileSync(UNIT_FILE, 'utf8');
const EXECUTABLE = '/opt/coocenter-agent/coocenter-agent';
const CONFIG = '/etc/coocenter/api.conf';

/** Active (uncommented) `Key=value` lines per section, values in file order. */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1] as string, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (!current || eq < 0) throw new Error(`not a unit line: ${raw}`);
    const key = line.slice(0, eq).trim();
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return sections;
}

const service = parseUnit(UNIT).get('Service') ?? new Map<string, string[]>();
const one = (key: string) => {
  const v = service.get(key);
  expect(v, `[Service] ${key}= set exactly once`).toHaveLength(1);
  return (v as string[])[0] as string;
};

/**
 * systemd-analyze must be there: a missing tool fails the test instead of skipping it, so a unit
 * systemd would reject cannot pass unnoticed.
 */
function systemdAnalyze(args: string[]) {
  const r = spawnSync('systemd-analyze', args, { encoding: 'utf8', timeout: 60_000 });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error('systemd-analyze is not installed: this test verifies deploy/coocenter-agent.service with it (Debian/Ubuntu: apt-get install systemd)');
  }
  if (r.error) throw r.error;
  return r;
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/**
 * The unit copied into a temp dir, every line as it is except the active ExecStart's executable,
 * which becomes a stub there: `verify` refuses an ExecStart whose binary does not exist.
 */
function unitCopy(extra?: { after: string; line: string }): string {
  const dir = mkdtempSync(join(tmpdir(), 'coocenter-unit-'));
  dirs.push(dir);
  const stub = join(dir, 'coocenter-agent');
  writeFileSync(stub, '#!/bin/sh\nexit 0\n');
  chmodSync(stub, 0o755);
  const lines = UNIT.split('\n').flatMap((l) => {
    const out = l.startsWith('ExecStart=') ? [l.replace(`ExecStart=${EXECUTABLE} `, `ExecStart=${stub} `)] : [l];
    return extra && l === extra.after ? [...out, extra.line] : out;
  });
  const file = join(dir, 'coocenter-agent.service');
  writeFileSync(file, lines.join('\n'));
  return file;
}

/**
 * `verify` loads the unit into a manager of its own in test mode: it needs no systemd as PID 1 and
 * no root (it runs as is in this container, where PID 1 is not systemd). `--root` is not needed,
 * and `--offline` belongs to `systemd-analyze security`, not to `verify`. `--man=no`: the unit's
 * Documentation= is a file URL, no man page to look up. `--generators=no`: the host's generators
 * have nothing to do with this unit. `--recursive-errors=no`: only this unit's errors count, not
 * those of the host's own units it names (asterisk.service, network-online.target).
 */
function verify(file: string) {
  return systemdAnalyze(['verify', '--man=no', '--generators=no', '--recursive-errors=no', file]);
}

describe('deploy/coocenter-agent.service', () => {
  it('passes systemd-analyze verify with no warning about it', () => {
    const file = unitCopy();
    expect(readFileSync(file, 'utf8'), `the copy runs a stub: ExecStart must start with ${EXECUTABLE} `).toContain(`ExecStart=${file.replace(/coocenter-agent\.service$/, 'coocenter-agent')} --config ${CONFIG}\n`);
    const r = verify(file);
    const aboutUnit = r.stderr.split('\n').filter((l) => l.includes('coocenter-agent') || /unknown (key|section|lvalue)|failed to parse/i.test(l));
    expect(aboutUnit, r.stderr).toEqual([]);
    expect(r.status, r.stderr).toBe(0);
  });

  it('verify here does report a key systemd does not know (so the check above can fail)', () => {
    const file = unitCopy({ after: 'Restart=always', line: 'RestartBogus=always' });
    const r = verify(file);
    expect(r.stderr).toMatch(/Unknown key 'RestartBogus' in section \[Service\]/);
  });

  it('runs the single executable with --config, the .mjs under node as the commented alternative', () => {
    expect(one('ExecStart')).toBe(`${EXECUTABLE} --config ${CONFIG}`);
    // The .mjs runs with the V8 flags the executable carries.
    expect(UNIT).toMatch(new RegExp(`^#ExecStart=/usr/bin/node ${AGENT_V8_FLAGS.join(' ')} ${EXECUTABLE}\\.mjs --config ${CONFIG}$`, 'm'));
    // Both run in the environment the bench measured them in.
    expect(one('Environment')).toBe(Object.entries(AGENT_ENV).map(([k, v]) => `${k}=${v}`).join(' '));
    // The header tells how to check the setup with the same executable.
    expect(UNIT).toContain(`${EXECUTABLE} --check --config ${CONFIG}`);
  });

  it('runs as a user other than root, restarts always, and has its state directory', () => {
    const user = one('User');
    expect(user, 'User= names the account the agent runs as').not.toBe('');
    expect(['root', '0'].includes(user), `User=${user}: the agent must not run as root`).toBe(false);
    expect(one('Restart')).toBe('always');
    expect(one('StateDirectory')).toBe('coocenter-agent');
  });

  it('keeps its hardening, and no MemoryDenyWriteExecute (it breaks V8’s JIT)', () => {
    const hardening: Record<string, string> = {
      NoNewPrivileges: 'yes',
      ProtectSystem: 'strict',
      ProtectHome: 'yes',
      PrivateTmp: 'yes',
      PrivateDevices: 'yes',
      ProtectKernelTunables: 'yes',
      ProtectKernelModules: 'yes',
      ProtectControlGroups: 'yes',
      RestrictSUIDSGID: 'yes',
      LockPersonality: 'yes',
    };
    for (const [key, value] of Object.entries(hardening)) expect(service.get(key), key).toEqual([value]);
    expect(service.get('MemoryDenyWriteExecute') ?? []).not.toContain('yes');
    expect(service.get('MemoryDenyWriteExecute') ?? []).not.toContain('true');
  });
});
