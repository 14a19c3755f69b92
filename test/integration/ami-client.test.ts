import { afterEach, describe, expect, it } from 'vitest';
import { AmiClient, type AmiClientOptions, type AmiStatusChange } from '../../agent/ami/client.ts';
import { AmiError } from '../../agent/ami/errors.ts';
import type { AmiMessage } from '../../agent/ami/message.ts';
import { defaultRetryStrategy } from '../../agent/ami/retry.ts';
import { tcpConnect } from '../../agent/ami/tcp.ts';
import { AmiInjectionError } from '../../agent/ami/writer.ts';
import { replayHandler, ScriptedAmiServer, type ActionHandler } from '../support/ami-server.ts';
import { loadTranscript, type Driver } from '../support/transcript.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(handler: ActionHandler, banner?: string) {
  const server = await ScriptedAmiServer.start(handler, banner);
  cleanups.push(() => server.close());
  return server;
}

function client(server: ScriptedAmiServer, extra: Partial<AmiClientOptions> = {}) {
  const c = new AmiClient({
    connect: tcpConnect('127.0.0.1', server.port),
    username: 'coo',
    secret: 'coopass',
    keepaliveMs: 0,
    retryStrategy: () => 20,
    ...extra,
  });
  cleanups.push(() => c.close());
  return c;
}

async function replay(driver: Driver, name: string, extra: Partial<AmiClientOptions> = {}, chunkSize?: number) {
  const server = await serve(replayHandler(loadTranscript(driver, name), chunkSize ? { chunkSize } : {}));
  const c = client(server, extra);
  c.start();
  await c.waitReady(5000);
  return { server, c };
}

function waitFor<T>(check: () => T | undefined, what: string, ms = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      const v = check();
      if (v !== undefined && v !== false) return resolve(v);
      if (Date.now() - started > ms) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 5);
    };
    tick();
  });
}

describe('AmiClient against recorded Asterisk sessions over TCP', () => {
  it('logs in, pings and logs off (01)', async () => {
    const { server, c } = await replay('chan_sip', '01_login_banner_ping_logoff.txt', { events: false });
    expect(c.version).toBe('9.0.0');
    const login = server.sessions[0]?.actions[0];
    expect(login?.get('Action')).toBe('Login');
    expect(login?.get('Username')).toBe('coo');
    expect(login?.get('Events')).toBe('off');
    const pong = await c.action({ Action: 'Ping' });
    expect(pong.response.get('Ping')).toBe('Pong');
    expect(c.pendingCount).toBe(0);
  });

  for (const driver of ['chan_sip', 'pjsip'] as const) {
    it(`${driver}: gathers a whole event list into one result, split into 7-byte chunks`, async () => {
      const file = driver === 'chan_sip' ? '06_sippeers_sipshowpeer.txt' : '06_endpoints_contacts.txt';
      const { c } = await replay(driver, file, { events: false }, 7);
      const r = await c.action({ Action: driver === 'chan_sip' ? 'SIPpeers' : 'PJSIPShowEndpoints' });
      expect(r.response.get('EventList')).toBe('start');
      expect(r.complete?.get('EventList')).toBe('Complete');
      expect(r.events.length).toBe(Number(r.complete?.get('ListItems')));
      expect(r.events.length).toBe(10);
      expect(c.pendingCount).toBe(0);
    });
  }

  it('matches QueueStatus items whose ActionID is the last header (08)', async () => {
    const { c } = await replay('chan_sip', '08_queuestatus_queuesummary_idle.txt', { events: false });
    const all = await c.action({ Action: 'QueueStatus' });
    const members = all.events.filter((e) => e.event === 'QueueMember');
    expect(members.map((m) => `${m.get('Queue')}:${m.get('Location')}`).sort()).toEqual([
      '630:SIP/800',
      '630:SIP/801',
      '631:Local/802@agents/n',
      '631:SIP/806',
    ]);
    expect(all.events.length).toBe(Number(all.complete?.get('ListItems')));
  });

  it('returns Command output lines and rejects Asterisk errors with its message (16)', async () => {
    const { c } = await replay('chan_sip', '16_command_action.txt', { events: false });
    const version = await c.action({ Action: 'Command', Command: 'core show version' });
    expect(version.response.all('Output')[0]).toMatch(/^Asterisk 20\.20\.1/);
    const peers = await c.action({ Action: 'Command', Command: 'sip show peers' });
    expect(peers.response.all('Output').length).toBeGreaterThan(10);
    await c.action({ Action: 'Command', Command: 'queue show 630' });
    await c.action({ Action: 'Command', Command: 'core show channels concise' });
    const err = await c.action({ Action: 'Command', Command: 'no such thing' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AmiError);
    expect((err as AmiError).code).toBe('AMI_RESPONSE');
    expect((err as AmiError).response?.all('Output')[0]).toMatch(/No such command/);
    expect(c.pendingCount).toBe(0);
  });

  it('answers each action by its own response while call events interleave, and emits only unsolicited events (20)', async () => {
    const events: AmiMessage[] = [];
    const server = await serve(replayHandler(loadTranscript('chan_sip', '20_call_answered_hangup.txt')));
    const c = client(server);
    c.onEvent((e) => events.push(e));
    c.start();
    await c.waitReady();
    await waitFor(() => events.some((e) => e.event === 'BridgeEnter') || undefined, 'the call to bridge');
    const channels = await c.action({ Action: 'CoreShowChannels' });
    expect(channels.events.map((e) => e.event)).toEqual(['CoreShowChannel', 'CoreShowChannel']);
    const hints = await c.action({ Action: 'ExtensionStateList' });
    expect(hints.events.length).toBe(10);
    await waitFor(() => events.some((e) => e.event === 'Cdr') || undefined, 'the Cdr');
    // List items never leak into the event stream; the unsolicited ExtensionStatus events do arrive.
    expect(events.some((e) => e.event === 'CoreShowChannel')).toBe(false);
    expect(events.filter((e) => e.event === 'ExtensionStatus').every((e) => e.actionId === undefined)).toBe(true);
    expect(events.some((e) => e.event === 'ExtensionStatus')).toBe(true);
  });

  it('resolves an Async Originate at its response and delivers OriginateResponse as an event (10)', async () => {
    const events: AmiMessage[] = [];
    const server = await serve(replayHandler(loadTranscript('chan_sip', '10_originate_async_success.txt')));
    const c = client(server);
    c.onEvent((e) => events.push(e));
    c.start();
    await c.waitReady();
    const r = await c.action({ Action: 'Originate', Channel: 'SIP/805', Application: 'Playback', Data: 'hello-world', Async: 'true' });
    expect(r.response.get('Message')).toBe('Originate successfully queued');
    const id = server.sessions[0]?.actions[1]?.actionId;
    const or = await waitFor(() => events.find((e) => e.event === 'OriginateResponse'), 'OriginateResponse');
    expect(or.actionId).toBe(id);
    expect(or.get('Response')).toBe('Success');
  });

  it('rejects every error response of 17 with AMI_RESPONSE and Asterisk\'s words', async () => {
    const t = loadTranscript('chan_sip', '17_error_responses.txt');
    const { c } = await replay('chan_sip', '17_error_responses.txt', { events: false });
    const messages: string[] = [];
    // Send the recorded actions in order (they include successes such as Getvar EPOCH).
    for (const step of t.steps.slice(2)) {
      // The recording's Ping without ActionID shows Asterisk's side; this client always sends one.
      if (!step.client.includes('ActionID:')) continue;
      const lines = step.client.split('\r\n').filter((l) => l && !l.startsWith('ActionID'));
      const action: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        action[l.slice(0, i)] = l.slice(i + 1).trimStart();
      }
      if (!action.Action || action.Action === 'Logoff') continue;
      await c.action(action as { Action: string }).then(
        () => messages.push('ok'),
        (e: AmiError) => messages.push(e.message),
      );
    }
    expect(messages).toContain('Invalid/unknown command: NoSuchAction. Use Action: ListCommands to show available commands.');
    expect(messages).toContain('Channel not specified');
    expect(messages).toContain('Invalid priority');
    expect(c.pendingCount).toBe(0);
  });
});

describe('AmiClient connection handling', () => {
  it('sends nothing before login succeeds, and refuses actions until then', async () => {
    let answerLogin: (() => void) | undefined;
    const server = await serve((a, s) => {
      if (a.get('Action') === 'Login') answerLogin = () => s.write(`Response: Success\r\nActionID: ${a.actionId}\r\nMessage: Authentication accepted\r\n\r\n`);
      else s.write(`Response: Success\r\nActionID: ${a.actionId}\r\nPing: Pong\r\n\r\n`);
    });
    const c = client(server);
    c.start();
    await waitFor(() => answerLogin, 'the login');
    const early = await c.action({ Action: 'Ping' }).catch((e: AmiError) => e);
    expect((early as AmiError).code).toBe('AMI_NOT_CONNECTED');
    expect(server.sessions[0]?.actions.map((a) => a.get('Action'))).toEqual(['Login']);
    answerLogin?.();
    await c.waitReady();
    await c.action({ Action: 'Ping' });
    expect(server.sessions[0]?.actions.map((a) => a.get('Action'))).toEqual(['Login', 'Ping']);
  });

  it('logs in with the MD5 challenge without sending the secret', async () => {
    const { createHash } = await import('node:crypto');
    const server = await serve((a, s) => {
      const id = a.actionId;
      if (a.get('Action') === 'Challenge') s.write(`Response: Success\r\nActionID: ${id}\r\nChallenge: 840415273\r\n\r\n`);
      else if (a.get('Action') === 'Login') {
        const ok = a.get('AuthType') === 'MD5' && a.get('Key') === createHash('md5').update('840415273coopass').digest('hex');
        s.write(ok ? `Response: Success\r\nActionID: ${id}\r\nMessage: Authentication accepted\r\n\r\n` : `Response: Error\r\nActionID: ${id}\r\nMessage: Authentication failed\r\n\r\n`);
      }
    });
    const c = client(server, { authType: 'md5' });
    c.start();
    await c.waitReady();
    const sent = server.sessions[0]?.actions ?? [];
    expect(sent.map((a) => a.get('Action'))).toEqual(['Challenge', 'Login']);
    expect(sent.some((a) => a.has('Secret'))).toBe(false);
  });

  it('reports a refused login and keeps retrying without ever becoming ready (02)', async () => {
    const server = await serve(replayHandler(loadTranscript('chan_sip', '02_login_failure.txt')));
    server.setHandler((a, s) => {
      s.write(`Response: Error\r\nActionID: ${a.actionId}\r\nMessage: Authentication failed\r\n\r\n`);
      s.socket.end();
    });
    const statuses: AmiStatusChange[] = [];
    const c = client(server, { secret: 'wrong', retryStrategy: () => 10 });
    c.onStatus((s) => statuses.push(s));
    c.start();
    await waitFor(() => server.sessions.length >= 3 || undefined, 'three login attempts');
    expect(c.status).not.toBe('ready');
    expect(statuses.find((s) => s.status === 'reconnecting')?.reason).toBe('login refused: Authentication failed');
    const err = await c.action({ Action: 'Ping' }).catch((e: AmiError) => e);
    expect((err as AmiError).message).toMatch(/not connected.*Authentication failed/);
  });

  it('times out an unanswered action with a typed error and leaves nothing behind; a late answer is ignored', async () => {
    let late: (() => void) | undefined;
    const server = await serve((a, s) => {
      if (a.get('Action') === 'Login') s.write(`Response: Success\r\nActionID: ${a.actionId}\r\nMessage: ok\r\n\r\n`);
      else late = () => s.write(`Response: Success\r\nActionID: ${a.actionId}\r\nPing: Pong\r\n\r\n`);
    });
    const c = client(server);
    c.start();
    await c.waitReady();
    const err = await c.action({ Action: 'Ping' }, { timeoutMs: 50 }).catch((e: AmiError) => e);
    expect(err).toBeInstanceOf(AmiError);
    expect((err as AmiError).code).toBe('AMI_TIMEOUT');
    expect(c.pendingCount).toBe(0);
    late?.();
    const aborted = new AbortController();
    const p = c.action({ Action: 'Ping' }, { signal: aborted.signal });
    aborted.abort();
    expect(((await p.catch((e: AmiError) => e)) as AmiError).code).toBe('AMI_ABORTED');
    expect(c.pendingCount).toBe(0);
  });

  it('fails in-flight actions on disconnect, reconnects, and resumes events on the new session', async () => {
    let mode: 'silent' | 'answer' = 'silent';
    const server = await serve((a, s) => {
      if (a.get('Action') === 'Login') {
        s.write(`Response: Success\r\nActionID: ${a.actionId}\r\nMessage: Authentication accepted\r\n\r\n`);
        s.write(`Event: FullyBooted\r\nPrivilege: system,all\r\nStatus: Fully Booted\r\n\r\n`);
      } else if (mode === 'answer') s.write(`Response: Success\r\nActionID: ${a.actionId}\r\nPing: Pong\r\n\r\n`);
    });
    const events: AmiMessage[] = [];
    const c = client(server);
    c.onEvent((e) => events.push(e));
    c.start();
    await c.waitReady();
    const inflight = c.action({ Action: 'Ping' });
    await waitFor(() => server.sessions[0]?.actions.length === 2 || undefined, 'the ping to arrive');
    server.dropAll();
    const err = await inflight.catch((e: AmiError) => e);
    expect((err as AmiError).code).toBe('AMI_DISCONNECTED');
    expect(c.pendingCount).toBe(0);
    await waitFor(() => (server.sessions.length === 2 && c.status === 'ready') || undefined, 'the reconnect');
    mode = 'answer';
    await c.action({ Action: 'Ping' });
    await waitFor(() => events.filter((e) => e.event === 'FullyBooted').length === 2 || undefined, 'events after reconnect');
    expect(server.sessions[1]?.actions[0]?.get('Events')).toBe('on');
  });

  it('keeps retrying while Asterisk refuses connections, then connects', async () => {
    const server = await serve((a, s) => s.write(`Response: Success\r\nActionID: ${a.actionId}\r\nMessage: ok\r\n\r\n`));
    server.refuse = true;
    const statuses: string[] = [];
    const c = client(server, { retryStrategy: () => 5 });
    c.onStatus((s) => statuses.push(s.status));
    c.start();
    await waitFor(() => statuses.filter((s) => s === 'reconnecting').length >= 3 || undefined, 'three refused attempts');
    server.refuse = false;
    await c.waitReady();
    expect(c.status).toBe('ready');
  });

  it('notices a dead link with keepalive Pings and reconnects', async () => {
    let answerPings = false;
    const server = await serve((a, s) => {
      if (a.get('Action') === 'Login') s.write(`Response: Success\r\nActionID: ${a.actionId}\r\nMessage: ok\r\n\r\n`);
      else if (answerPings) s.write(`Response: Success\r\nActionID: ${a.actionId}\r\nPing: Pong\r\n\r\n`);
    });
    const c = client(server, { keepaliveMs: 30 });
    c.start();
    await c.waitReady();
    await waitFor(() => server.sessions.length >= 2 || undefined, 'a reconnect after a silent keepalive');
    answerPings = true;
    await waitFor(() => (c.status === 'ready' && (server.sessions.at(-1)?.actions.filter((a) => a.get('Action') === 'Ping').length ?? 0) >= 2) || undefined, 'answered pings');
    expect(server.sessions.length).toBe(2);
  });

  it('refuses CR/LF and control characters in any value before writing a byte', async () => {
    const server = await serve((a, s) => s.write(`Response: Success\r\nActionID: ${a.actionId}\r\nMessage: ok\r\n\r\n`));
    const c = client(server);
    c.start();
    await c.waitReady();
    for (const bad of ['801\r\nAction: Hangup', '801\n', '80\r1', '8\u00001', '8\u001b01', '8\u007f']) {
      await expect(c.action({ Action: 'Originate', Channel: `SIP/${bad}`, Exten: '802' })).rejects.toBeInstanceOf(AmiInjectionError);
    }
    await expect(c.action({ Action: 'Originate', Variable: ['a=1', 'b=\r\n2'] })).rejects.toBeInstanceOf(AmiInjectionError);
    expect(server.sessions[0]?.actions.map((a) => a.get('Action'))).toEqual(['Login']);
    expect(c.pendingCount).toBe(0);
  });

  it('default retry strategy grows, is jittered, and never exceeds 30 s nor gives up', () => {
    let r = 0;
    const s = defaultRetryStrategy(() => (r = (r + 0.37) % 1));
    const delays = Array.from({ length: 60 }, (_, i) => s(i + 1));
    expect(delays.every((d) => d !== null && d > 0 && d <= 30_000)).toBe(true);
    expect(delays[0]).toBeLessThan(1000);
    expect(Math.max(...(delays as number[]).slice(20))).toBeGreaterThan(15_000);
    expect(new Set(delays.slice(20)).size).toBeGreaterThan(1);
  });

  it('close() fails in-flight actions with AMI_CLOSED and stops reconnecting', async () => {
    const server = await serve((a, s) => {
      if (a.get('Action') === 'Login') s.write(`Response: Success\r\nActionID: ${a.actionId}\r\nMessage: ok\r\n\r\n`);
    });
    const c = client(server);
    c.start();
    await c.waitReady();
    const p = c.action({ Action: 'Ping' });
    c.close();
    expect(((await p.catch((e: AmiError) => e)) as AmiError).code).toBe('AMI_CLOSED');
    expect(c.status).toBe('closed');
    expect(c.pendingCount).toBe(0);
    await waitFor(() => server.sessions[0]?.socket.destroyed || undefined, 'the socket to close');
    expect(server.sessions.length).toBe(1);
  });
});
