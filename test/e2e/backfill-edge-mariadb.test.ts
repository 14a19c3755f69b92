import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { startEdgeServer } from '../../edge/node/server.ts';
import { startPbxSim } from '../pbxsim/index.ts';
import { ADMIN_KEY, call, provision } from '../support/edge-harness.ts';
import { createCdrTable, createReadOnlyUser, insertCdrs, startMariaDb } from '../support/mariadb.ts';
import { until } from '../support/wait.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';
import { BOX_TZ, expectBackfilled, killDuringCalls, masterCsvAsCdrRows, writeConf } from './backfill-scenario.ts';

const MAC = '68:69:2e:03:8b:3e';
const dir = mkdtempSync(join(tmpdir(), 'coo-bf-edge-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

it('through the edge, with the CDRs in MariaDB: calls made while the agent was killed for 30 s arrive backfilled, none twice', async () => {
  mkdirSync(join(dir, 'monitor'));
  const queueLog = join(dir, 'queue_log');
  // Asterisk writes the CDRs to both; the agent reads only the database here.
  const master = join(dir, 'cdr-csv', 'Master.csv');
  const db = await startMariaDb();
  const sim = await startPbxSim({ driver: 'sip', timeScale: 1, queueLogFile: queueLog, cdrCsvFile: master, timeZone: BOX_TZ });
  const edge = await startEdgeServer({ port: 0, host: '127.0.0.1', dataDir: join(dir, 'edge'), adminKey: ADMIN_KEY, log: () => undefined });
  const rx = await new WebhookReceiver().start();
  try {
    await createCdrTable(db);
    await createReadOnlyUser(db, { user: 'cdrreader', password: 'r3ad' });
    const p = await provision(edge, MAC, { url: rx.url });
    const conf = writeConf(
      dir,
      sim.port,
      `[paths]\nmonitor=${dir}/monitor\nspool=${dir}/spool\nqueue_log=${queueLog}\n[cdrdb]\nhost=127.0.0.1\nport=${db.port}\nuser=cdrreader\npassword=r3ad\n[tunnel]\nedge=${edge.url.replace(/^http/, 'ws')}\ntoken=${p.token}`,
    );
    const { calls, agent } = await killDuringCalls({
      sim,
      conf,
      children,
      rx,
      // cdr_adaptive_odbc writes every CDR to the table as Asterisk posts it.
      beforeRestart: () => insertCdrs(db, masterCsvAsCdrRows(master)),
    });
    const all = await expectBackfilled(rx, calls, master);
    expect(all.filter((r) => r.doc.event === 'cc_cdr')).toHaveLength(3);
    // The edge's status says the gap was filled, with what came back.
    const gap = await until(async () => {
      const st = await call(`${edge.url}/devices/${MAC}/status`, { headers: { authorization: `Bearer ${p.tenantKey}` } });
      const last = (st.body.gaps as { backfill?: { state: string } }[]).at(-1);
      return last?.backfill?.state === 'filled' ? last : undefined;
    }, 'the gap reported filled');
    expect(gap).toMatchObject({ backfill: { ccCdr: 3, detail: '' } });
    expect(agent.output()).toMatch(/"msg":"gap backfilled".*"state":"filled"/);
    agent.child.kill('SIGTERM');
  } finally {
    await rx.stop();
    await edge.close();
    await sim.close();
    await db.close();
  }
}, 120_000);
