import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../agent/agent.ts';
import { parseConfig } from '../../agent/config.ts';
import { MIXED_DRIVERS, startPbxSim, type PbxSim } from '../pbxsim/index.ts';
import { until } from '../support/wait.ts';

/**
 * A FreePBX 13-16 box with chan_sip and PJSIP side by side (the simulator's `--driver mixed`: 800-804
 * on chan_sip, 805-809 on PJSIP), through the real agent's LAN API: every operation that names a
 * phone acts on it with the phone's own technology.
 */
describe('coocenter-api on a box running chan_sip and PJSIP side by side', () => {
  let sim: PbxSim;
  let agent: RunningAgent;
  let dir: string;
  const call = async (method: string, path: string, form?: Record<string, string>) => {
    const res = await fetch(`${agent.lanUrl}${path}`, { method, ...(form ? { body: new URLSearchParams(form) } : {}) });
    return { status: res.status, body: (await res.json()) as any };
  };
  const actionsSince = (n: number, name: string) => sim.actions.slice(n).filter((a) => a.get('Action') === name);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'coo-mixed-'));
    sim = await startPbxSim({ driver: 'sip', drivers: MIXED_DRIVERS, timeScale: 0.02 });
    const config = parseConfig(
      `[general]\nBINDPORT=0\nmac=68:69:2e:03:8b:3e\n[ami]\nhost=127.0.0.1\nport=${sim.port}\nusername=coocenter\nsecret=coocenter\n[paths]\nmonitor=${dir}/monitor\nspool=${dir}/spool\n`,
    );
    agent = await startAgent({ config, log: () => undefined, host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await agent?.close();
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('detects both drivers', () => {
    expect(agent.drivers.loaded).toEqual(['sip', 'pjsip']);
  });

  it('extension-status lists the SIP peers and the PJSIP endpoints, each with its own Type', async () => {
    const rows: { Exten: string; Type: string }[] = (await call('GET', '/extensions/extension-status')).body.data;
    const phones = rows.filter((r) => /^80\d$/.test(r.Exten)).map((r) => `${r.Exten}:${r.Type}`);
    expect(phones.sort()).toEqual(Object.entries(MIXED_DRIVERS).map(([ext, d]) => `${ext}:${d === 'sip' ? 'SIP' : 'PJSIP'}`));
  });

  it('extension-hints-status gives each hint its own technology', async () => {
    const rows: { extension: string; extenType: string }[] = (await call('GET', '/extensions/extension-hints-status')).body;
    expect(rows.filter((r) => /^80\d$/.test(r.extension)).map((r) => `${r.extension}:${r.extenType}`)).toEqual(
      Object.entries(MIXED_DRIVERS).map(([ext, d]) => `${ext}:${d === 'sip' ? 'SIP' : 'PJSIP'}`),
    );
  });

  it('click-number rings each src on its own technology', async () => {
    const n = sim.actions.length;
    expect((await call('POST', '/extensions/click-number', { src: '801', dst: '803' })).status).toBe(200);
    expect((await call('POST', '/extensions/click-number', { src: '806', dst: '804' })).status).toBe(200);
    expect(actionsSince(n, 'Originate').map((a) => a.get('Channel'))).toEqual(['SIP/801', 'PJSIP/806']);
    for (const ext of ['801', '806']) await call('POST', '/extensions/hangup', { extension: ext });
  });

  it('agent-login, agent-pause and agent-logout use each phone’s own interface', async () => {
    const n = sim.actions.length;
    for (const extension of ['803', '808']) {
      expect((await call('POST', '/queues/agent-login', { extension, queue: '630' })).status).toBe(200);
      expect((await call('POST', '/queues/agent-pause', { member: extension, queue: '630', state: 'on' })).status).toBe(200);
      expect((await call('POST', '/queues/agent-logout', { extension, queue: '630' })).status).toBe(200);
    }
    expect(actionsSince(n, 'QueueAdd').map((a) => a.get('Interface'))).toEqual(['SIP/803', 'PJSIP/808']);
    expect(actionsSince(n, 'QueuePause').map((a) => a.get('Interface'))).toEqual(['SIP/803', 'PJSIP/808']);
    expect(actionsSince(n, 'QueueRemove').map((a) => a.get('Interface'))).toEqual(['SIP/803', 'PJSIP/808']);
  });

  it('extenSpy, transfer and hangup find a SIP and a PJSIP party of one call by their own channels', async () => {
    await until(async () => ((await call('POST', '/extensions/current-calls')).body.data.length === 0 ? true : undefined), 'the click-to-dial calls to end');
    const handle = sim.inboundCall({ from: '802', to: '805', talkMs: 600_000 });
    await until(async () => {
      const r = await call('POST', '/extensions/current-calls');
      return r.body.data.length >= 2 && r.body.data.every((c: any) => c.channelstatedesc === 'Up') ? true : undefined;
    }, 'the call to be bridged');

    const n = sim.actions.length;
    expect((await call('POST', '/extensions/extenSpy', { src: '806', dst: '802' })).status).toBe(200);
    const spy = actionsSince(n, 'Originate')[0];
    expect(spy?.get('Channel')).toBe('PJSIP/806');
    expect(spy?.get('Data')).toMatch(/^SIP\/802-[0-9a-f]{8},qES$/);

    const m = sim.actions.length;
    expect((await call('POST', '/extensions/transfer', { src: '805', dst: '800' })).status).toBe(200);
    expect(actionsSince(m, 'Redirect')[0]?.get('Channel')).toBe(handle.channel);
    await until(async () => {
      const r = await call('POST', '/extensions/current-calls');
      return r.body.data.some((c: any) => c.channel.startsWith('SIP/800-')) ? true : undefined;
    }, 'the transferred call to reach 800');

    const k = sim.actions.length;
    expect((await call('POST', '/extensions/hangup', { extension: '802' })).status).toBe(200);
    expect(actionsSince(k, 'Hangup').map((a) => a.get('Channel'))).toEqual([handle.channel]);
    await handle.done;
  });
});
