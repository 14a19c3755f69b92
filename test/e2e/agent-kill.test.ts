import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { Outbox } from '../../agent/outbox/outbox.ts';
import { startPbxSim } from '../pbxsim/index.ts';
import { kill9, startAgentProcess } from '../support/agent-process.ts';
import { until } from '../support/wait.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';

const dir = mkdtempSync(join(tmpdir(), 'coo-kill-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});


it('kill -9 of the agent mid-stream and mid-call loses nothing it had read', async () => {
  const sim = await startPbxSim({ driver: 'sip', timeScale: 0.02 });
  let up = false;
  const accepted = new Set<number>();
  const receiver = await new WebhookReceiver((r) => {
    if (up) accepted.add(Number(String(r.headers['webhook-id']).split('_').at(-1)));
    return { status: up ? 200 : 503 };
  }).start();
  try {
    const conf = join(dir, 'api.conf');
    writeFileSync(
      conf,
      `[general]\nBINDPORT=0\nURL=${receiver.url}\nmac=68:69:2e:03:8b:3e\nWEBHOOK_SECRET=s3cret\n[ami]\nhost=127.0.0.1\nport=${sim.port}\nusername=coocenter\nsecret=coocenter\n[paths]\nmonitor=${dir}/monitor\nspool=${dir}/spool\n`,
    );
    let agent = await startAgentProcess(conf, children);
    // A short call while the receiver refuses everything: its events wait in the outbox.
    await sim.inboundCall({ from: '801', to: '802', talkMs: 3000 }).done;
    // A queue call still going on when the agent dies.
    sim.setPhone('801', { answerAfterMs: null });
    const call = sim.queueCall({ from: '13800138000', queue: '630', talkMs: 3_600_000 });
    await until(async () => {
      const r = await fetch(`${agent.lanUrl}/extensions/current-calls`, { method: 'POST' });
      const body = (await r.json()) as { data: { channelstatedesc: string }[] };
      return body.data.length === 2 && body.data.every((c) => c.channelstatedesc === 'Up') ? true : undefined;
    }, 'the queue call to be answered');
    await new Promise((r) => setTimeout(r, 200));
    await kill9(agent.child);

    // What the agent had read and written before it died, read from its own spool.
    const spooled = await Outbox.open({ dir: join(dir, 'spool/outbox') });
    const written = spooled.stats().nextSeq - 1;
    await spooled.close();
    expect(written).toBeGreaterThan(10);

    up = true;
    agent = await startAgentProcess(conf, children);
    const hang = await fetch(`${agent.lanUrl}/extensions/hangup`, { method: 'POST', body: new URLSearchParams({ extension: '800' }) });
    expect(hang.status).toBe(200);
    await call.done;
    const bodies = () => receiver.received.filter((r) => r.headers['webhook-id'] !== undefined);
    const cc = await until(
      () => bodies().map((r) => JSON.parse(r.body)).find((e) => e.event === 'cc_cdr' && e.uuid === call.linkedid),
      'the cc_cdr of the call that spanned the kill',
      15_000,
    );
    // Fields known only from events before the kill survived it.
    expect(cc).toMatchObject({ caller: '13800138000', queueCode: '630', agentCode: '800', cdrState: 'bridged' });
    expect(Number(cc.queueTime)).toBeGreaterThanOrEqual(0);
    for (let seq = 1; seq <= written; seq++) expect(accepted.has(seq), `seq ${seq}`).toBe(true);
    // A repeat is only ever the same webhook-id with the same body.
    const byId = new Map<string, string>();
    for (const r of bodies()) {
      const id = String(r.headers['webhook-id']);
      if (byId.has(id)) expect(r.body).toBe(byId.get(id));
      byId.set(id, r.body);
    }
    agent.child.kill('SIGTERM');
  } finally {
    await receiver.stop();
    await sim.close();
  }
}, 60_000);
