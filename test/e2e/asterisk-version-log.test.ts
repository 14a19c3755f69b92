import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startAgent } from '../../agent/agent.ts';
import { parseConfig } from '../../agent/config.ts';
import { startPbxSim } from '../pbxsim/index.ts';
import { until } from '../support/wait.ts';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function agentOn(asteriskVersion: string) {
  const dir = mkdtempSync(join(tmpdir(), 'coo-ver-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const sim = await startPbxSim({ driver: 'sip', asteriskVersion, timeScale: 0.02 });
  cleanups.push(() => sim.close());
  const logs: Record<string, unknown>[] = [];
  const config = parseConfig(
    `[general]\nBINDPORT=0\nmac=68:69:2e:03:8b:3e\n[ami]\nhost=127.0.0.1\nport=${sim.port}\nusername=coocenter\nsecret=coocenter\n[paths]\nmonitor=${dir}/monitor\nspool=${dir}/spool\n`,
  );
  const agent = await startAgent({ config, log: (e) => logs.push(e), host: '127.0.0.1', port: 0 });
  cleanups.push(() => agent.close());
  const versionLines = () => logs.filter((l) => l.msg === 'asterisk version');
  return { sim, versionLines };
}

describe('the agent says what works on its Asterisk, once, at login', () => {
  it('warns on 13.7.2 that wrap-up relies on its memory, and says it once across reconnects', async () => {
    const { sim, versionLines } = await agentOn('13.7.2');
    await until(() => versionLines()[0], 'the version line');
    expect(versionLines()[0]).toMatchObject({
      component: 'agent',
      level: 'warn',
      version: '13.7.2',
      support: 'limited',
      detail: expect.stringContaining('a manual pause made during a wrap-up may be undone'),
    });
    // After a login the agent reads CoreSettings, logs, then asks QueueStatus: once that comes, it has spoken.
    const queueStatuses = () => sim.actions.filter((a) => a.get('Action') === 'QueueStatus').length;
    await until(() => queueStatuses() || undefined, 'the first after-login queries');
    const before = queueStatuses();
    sim.dropConnections();
    await until(() => (queueStatuses() > before ? true : undefined), 'the after-login queries of the next login');
    expect(versionLines()).toHaveLength(1);
  });

  it('logs a supported version at info level', async () => {
    const { versionLines } = await agentOn('20.20.1');
    expect(await until(() => versionLines()[0], 'the version line')).toMatchObject({ level: 'info', support: 'supported' });
  });
});
