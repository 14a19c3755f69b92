import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { startPbxSim } from '../pbxsim/index.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';
import { BOX_TZ, expectBackfilled, killDuringCalls, writeConf } from './backfill-scenario.ts';

const dir = mkdtempSync(join(tmpdir(), 'coo-bf-lan-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

it('LAN mode, Master.csv: calls made while the agent was killed for 30 s arrive backfilled, none twice', async () => {
  mkdirSync(join(dir, 'monitor'));
  const queueLog = join(dir, 'queue_log');
  const master = join(dir, 'cdr-csv', 'Master.csv');
  const sim = await startPbxSim({ driver: 'sip', timeScale: 1, queueLogFile: queueLog, cdrCsvFile: master, timeZone: BOX_TZ });
  const rx = await new WebhookReceiver().start();
  try {
    const conf = writeConf(dir, sim.port, `URL=${rx.url}\n[paths]\nmonitor=${dir}/monitor\nspool=${dir}/spool\nqueue_log=${queueLog}\ncdr_csv=${master}`);
    const { calls, agent } = await killDuringCalls({ sim, conf, children, rx });
    const all = await expectBackfilled(rx, calls, master);
    expect(all.filter((r) => r.doc.event === 'cc_cdr')).toHaveLength(3);
    expect(agent.output()).toMatch(/"msg":"gap backfilled".*"state":"filled"/);
    agent.child.kill('SIGTERM');
  } finally {
    await rx.stop();
    await sim.close();
  }
}, 90_000);
