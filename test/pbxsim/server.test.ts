import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AmiTestClient } from './ami-test-client.ts';
import { startPbxSim, type PbxSim } from './index.ts';
import { startSimCli } from './cli-process.ts';

describe('AMI sessions', () => {
  let sim: PbxSim;
  const clients: AmiTestClient[] = [];
  const open = async () => {
    const c = await AmiTestClient.open(sim.port);
    clients.push(c);
    await c.until(() => c.banner, 'banner');
    return c;
  };

  beforeAll(async () => {
    sim = await startPbxSim({ timeScale: 0.02, timestampEvents: true });
  });
  afterAll(() => sim.close());
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    sim.refuseConnections(false);
    sim.reset();
  });

  it('logs in with an MD5 challenge (Key = md5(challenge + secret)) and refuses a wrong key by closing', async () => {
    const c = await open();
    const ch = await c.action({ Action: 'Challenge', AuthType: 'MD5' });
    const challenge = ch.response.get('Challenge') as string;
    expect(challenge).toMatch(/^\d+$/);
    const key = createHash('md5').update(`${challenge}coocenter`).digest('hex');
    const ok = await c.action({ Action: 'Login', AuthType: 'MD5', Username: 'coocenter', Key: key });
    expect(ok.response.get('Message')).toBe('Authentication accepted');

    const bad = await open();
    await bad.action({ Action: 'Challenge', AuthType: 'MD5' });
    const no = await bad.action({ Action: 'Login', AuthType: 'MD5', Username: 'coocenter', Key: key });
    expect(no.response.get('Message')).toBe('Authentication failed');
    await bad.until(() => bad.closed, 'server closes after a failed login');
  });

  it('keeps the connection open after Permission denied, and sends events only to sessions that asked', async () => {
    const c = await open();
    const denied = await c.action({ Action: 'Ping' });
    expect(denied.response.get('Message')).toBe('Permission denied');
    expect(c.closed).toBe(false);
    await c.login('coocenter', 'coocenter', 'off');
    const on = await open();
    await on.login('coocenter', 'coocenter');
    const agentOnly = await open();
    await agentOnly.login('coocenter', 'coocenter', 'agent');
    await on.event('FullyBooted');
    const from = { c: c.messages.length, agent: agentOnly.messages.length };
    await on.action({ Action: 'QueuePause', Interface: 'SIP/800', Paused: 'true', Queue: '630', Reason: 'lunch' });
    const pause = await on.event('QueueMemberPause');
    expect([pause.get('Paused'), pause.get('PausedReason')]).toEqual(['1', 'lunch']);
    // timestampevents=yes: Timestamp right after Privilege.
    expect([...pause.entries()].slice(0, 3).map(([k]) => k)).toEqual(['Event', 'Privilege', 'Timestamp']);
    expect(pause.get('Timestamp')).toMatch(/^\d+\.\d{6}$/);
    await agentOnly.event('QueueMemberPause', {}, from.agent);
    await c.action({ Action: 'Ping' });
    expect(c.messages.slice(from.c).some((m) => m.event !== undefined)).toBe(false);
    expect(agentOnly.messages.slice(from.agent).some((m) => m.event === 'DeviceStateChange')).toBe(false);
  });

  it('records every action, can hold an action unanswered, and drops or refuses connections', async () => {
    const c = await open();
    const first = sim.actions.length;
    await c.login('coocenter', 'coocenter', 'off');
    const release = sim.stall('Ping');
    const before = c.messages.length;
    const ping = c.action({ Action: 'Ping' });
    await sim.waitForAction('Ping', first);
    const status = await c.action({ Action: 'CoreStatus' });
    expect(status.response.get('Response')).toBe('Success');
    expect(c.messages.slice(before).some((m) => m.get('Ping') === 'Pong')).toBe(false);
    release();
    expect((await ping).response.get('Ping')).toBe('Pong');
    expect(sim.actions.slice(first).map((m) => m.get('Action'))).toEqual(['Login', 'Ping', 'CoreStatus']);

    sim.dropConnections();
    await c.until(() => c.closed, 'dropped');
    sim.refuseConnections(true);
    const refused = await AmiTestClient.open(sim.port);
    clients.push(refused);
    await refused.until(() => refused.closed, 'refused');
    expect(refused.banner).toBeUndefined();
    sim.refuseConnections(false);
    const back = await open();
    expect((await back.login('coocenter', 'coocenter')).get('Response')).toBe('Success');
  });

  it('drives scenarios over AMI with Sim* actions and reports when they finish', async () => {
    const c = await open();
    await c.login('coocenter', 'coocenter');
    expect((await c.action({ Action: 'SimSetPhone', Phone: '800', AnswerAfter: '500', HangupAfter: '2000' })).response.get('Response')).toBe('Success');
    const started = await c.action({ Action: 'SimQueueCall', From: '13800138000', FromName: 'Outside', Queue: '630' });
    expect(started.response.get('Message')).toBe('Scenario started');
    const done = await c.event('SimScenarioComplete', { ActionID: started.response.actionId as string });
    expect(done.get('Uniqueid')).toBe(started.response.get('Uniqueid'));
    const connect_ = await c.event('AgentConnect');
    expect([connect_.get('CallerIDNum'), connect_.get('CallerIDName'), connect_.get('MemberName')]).toEqual(['13800138000', 'Outside', 'Agent 800']);
    const complete = await c.event('AgentComplete');
    expect(complete.get('Reason')).toBe('agent');
    // Whole seconds from the bridge to the hangup, as app_queue counts them. The phone hangs up 2 s
    // after answering; the bridge comes a moment after the answer, and on this 50x clock a busy
    // machine's moment is up to a simulated second, so the seconds are read off the events' own stamps.
    const second = (m: typeof complete) => Math.floor(Number(m.get('Timestamp')));
    expect(complete.get('TalkTime')).toBe(String(second(complete) - second(connect_)));
    const reg = await c.action({ Action: 'SimRegister', Phone: '807', Registered: 'yes' });
    expect(reg.response.get('Response')).toBe('Success');
    await c.event('PeerStatus', { Peer: 'SIP/807', PeerStatus: 'Registered' });
    expect((await c.action({ Action: 'SimReset' })).response.get('Response')).toBe('Success');
    const peers = await c.action({ Action: 'SIPpeers' });
    expect(peers.events.find((m) => m.get('ObjectName') === '807')?.get('Status')).toBe('UNKNOWN');
  });

  it('runs the IVR walk and the blacklist check of the dialplan', async () => {
    const c = await open();
    await c.login('coocenter', 'coocenter');
    const ivr = sim.ivrCall({ from: '805', talkMs: 1000 });
    await ivr.done;
    const steps = c.messages.filter((m) => m.event === 'UserEvent' && m.get('UserEvent') === 'ivr');
    expect(steps.map((m) => m.last('Step'))).toEqual(['welcome', 'choice']);
    expect(steps[0]?.all('CallerIDNum')).toEqual(['805', '805']);
    expect([steps[1]?.get('Choice'), steps[1]?.get('Target'), steps[1]?.get('Context')]).toEqual(['1', '630', 'ivr']);
    await c.event('AgentConnect', { Linkedid: ivr.linkedid });

    await c.action({ Action: 'DBPut', Family: 'blacklist', Key: '806', Val: '1' });
    const blocked = sim.inboundCall({ from: '806', to: '802' });
    await blocked.done;
    const ue = await c.event('UserEvent', { UserEvent: 'Blacklisted' });
    expect([ue.last('CallerIDNum'), ue.get('Reason')]).toEqual(['806', '1']);
    const hangup = await c.event('Hangup', { Uniqueid: blocked.uniqueid });
    expect([hangup.get('Cause'), hangup.get('Cause-txt')]).toEqual(['21', 'Call Rejected']);
    const cdr = await c.event('Cdr', { UniqueID: blocked.uniqueid });
    expect([cdr.get('LastApplication'), cdr.get('LastData'), cdr.get('Disposition')]).toEqual(['Hangup', '21', 'NO ANSWER']);
    expect(c.messages.some((m) => m.event === 'DialBegin' && m.get('Uniqueid') === blocked.uniqueid)).toBe(false);
  });

  it('a busy extension ends the caller with cause 17 and two BUSY CDRs (transcript 21)', async () => {
    const c = await open();
    await c.login('coocenter', 'coocenter');
    const call = sim.inboundCall({ from: '801', to: '803' });
    await call.done;
    const hangup = await c.event('Hangup', { Channel: call.channel });
    expect([hangup.get('Cause'), hangup.get('Cause-txt')]).toEqual(['17', 'User busy']);
    const end = await c.event('DialEnd', { Channel: call.channel });
    expect(end.get('DialStatus')).toBe('BUSY');
    const cdrs = c.messages.filter((m) => m.event === 'Cdr' && m.get('UniqueID') === call.uniqueid);
    expect(cdrs.map((m) => [m.get('LastApplication'), m.get('Disposition')])).toEqual([
      ['Dial', 'BUSY'],
      ['Hangup', 'BUSY'],
    ]);
  });
});

describe('recordings', () => {
  it('MixMonitor writes a WAV below the recordings folder, and never outside it', async () => {
    const { mkdtempSync, readFileSync, existsSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'pbxsim-rec-'));
    const sim = await startPbxSim({ timeScale: 0.02, recordingsDir: dir });
    const c = await AmiTestClient.open(sim.port);
    try {
      await c.login('coocenter', 'coocenter');
      const call = sim.inboundCall({ from: '801', to: '802' });
      await c.until(() => c.messages.filter((m) => m.event === 'BridgeEnter').length === 2, 'bridged');
      await c.action({ Action: 'MixMonitor', Channel: call.channel, File: '2026/11/call-1.wav' });
      await c.action({ Action: 'MixMonitor', Channel: call.channel, File: '../escape.wav' });
      await c.action({ Action: 'StopMixMonitor', Channel: call.channel });
      await c.action({ Action: 'Hangup', Channel: call.channel });
      await call.done;
      const wav = readFileSync(join(dir, '2026/11/call-1.wav'));
      expect(wav.subarray(0, 4).toString('latin1')).toBe('RIFF');
      expect(wav.length).toBeGreaterThan(44);
      expect(existsSync(join(dir, '../escape.wav'))).toBe(false);
    } finally {
      await c.close();
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('coocenter-pbxsim CLI', () => {
  it('prints one ready line with the port it bound and exits cleanly on SIGTERM', async () => {
    const { child, line } = await startSimCli(['--port', '0', '--driver', 'pjsip', '--time-scale', '0.1']);
    try {
      const m = /^AMI listening on 127\.0\.0\.1:(\d+)\n$/.exec(line);
      expect(m).not.toBeNull();
      const c = await AmiTestClient.open(Number(m?.[1]));
      await c.login('coocenter', 'coocenter', 'off');
      const eps = await c.action({ Action: 'PJSIPShowEndpoints' });
      // 800-809 and the trunk endpoint, then EndpointListComplete.
      expect(eps.events.length).toBe(12);
      await c.close();
      const code = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      expect(await code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('answers --help and rejects a bad driver with exit code 2', async () => {
    const { spawnSync } = await import('node:child_process');
    const bin = new URL('../../bin/coocenter-pbxsim.js', import.meta.url).pathname;
    const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--driver');
    const bad = spawnSync(process.execPath, [bin, '--driver', 'iax'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--driver must be sip, pjsip or mixed');
  });
});

