import { afterEach, describe, expect, it } from 'vitest';
import { call, MemoryOutbox, provision, ScriptedDevice, startAgent, startEdge, tempDataDir } from '../support/edge-harness.ts';

const MAC = '68:69:2e:03:8b:3e';
const OTHER = '68:69:2e:03:8b:3f';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup() {
  const data = tempDataDir();
  cleanups.push(() => data.remove());
  const edge = await startEdge(data.dir);
  cleanups.push(() => edge.close());
  const mine = await provision(edge, MAC);
  const theirs = await provision(edge, OTHER);
  const device = new ScriptedDevice();
  const outbox = new MemoryOutbox();
  const agent = startAgent(edge, { mac: MAC, token: mine.token, device, outbox });
  cleanups.push(() => agent.client.close());
  await agent.waitFor('online');
  const issue = (mac: string, key: string | undefined, body: Record<string, unknown>) =>
    call(`${edge.url}/devices/${mac}/toolbar/token`, { method: 'POST', json: body, ...(key ? { headers: { authorization: `Bearer ${key}` } } : {}) });
  return { edge, mine, theirs, device, outbox, agent, issue };
}

describe('toolbar on the Node edge', () => {
  it("issues tokens to the device's own tenant only, and a token acts for its extension on its device only", async () => {
    const { edge, mine, theirs, device, issue } = await setup();
    expect((await issue(MAC, undefined, { extension: '801' })).status).toBe(401);
    expect((await issue(MAC, theirs.tenantKey, { extension: '801' })).status).toBe(403);
    expect((await issue(MAC, mine.tenantKey, { extension: '80 1' })).status).toBe(400);
    const issued = await issue(MAC, mine.tenantKey, { extension: '801', ttl: 600 });
    expect(issued.status).toBe(200);
    expect(issued.body).toMatchObject({ extension: '801', supervisor: false });
    const auth = { authorization: `Bearer ${issued.body.token}` };

    const api = `${edge.url}/devices/${MAC}/coocenter-api`;
    const denied = await call(`${api}/extensions/hangup`, { method: 'POST', json: { extension: '802' }, headers: auth });
    expect(denied.status).toBe(403);
    expect(device.calls).toEqual([]);
    // Reaches the device (which has no call for 801 and says so).
    const own = await call(`${api}/extensions/hangup`, { method: 'POST', json: { extension: '801' }, headers: auth });
    expect(own.status).toBe(409);
    expect(device.calls).toEqual([{ op: 'hangup', params: { extension: '801' } }]);
    // Not a key for another device, nor for the admin API.
    expect((await call(`${edge.url}/devices/${OTHER}/coocenter-api/queues/queue-info`, { headers: auth })).status).toBe(401);
    expect((await call(`${edge.url}/devices/${MAC}/status`, { headers: auth })).status).toBe(401);
  });

  it("streams one extension's spooled and live events as they cross the tunnel", async () => {
    const { edge, mine, outbox, agent, issue } = await setup();
    const { body } = await issue(MAC, mine.tenantKey, { extension: '801' });
    expect((await fetch(`${edge.url}/devices/${MAC}/toolbar/stream?token=nope`)).status).toBe(401);
    const ac = new AbortController();
    cleanups.push(() => ac.abort());
    const res = await fetch(`${edge.url}/devices/${MAC}/toolbar/stream?token=${encodeURIComponent(body.token)}`, { signal: ac.signal });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    const until = async (needle: string) => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended: ${text}`);
        text += new TextDecoder().decode(value);
      }
    };
    await until('event: snapshot');
    outbox.append('extensionstatus', { event: 'extensionstatus', exten: '802', status: '8', statustext: 'Ringing', mac: MAC });
    outbox.append('extensionstatus', { event: 'extensionstatus', exten: '801', status: '8', statustext: 'Ringing', mac: MAC });
    await until('"exten":"801"');
    agent.client.sendLive([
      { type: 'pause', ext: '802', interface: 'SIP/802', queue: '630', paused: true, reason: 'lunch' },
      { type: 'pause', ext: '801', interface: 'SIP/801', queue: '630', paused: true, reason: 'wrapup' },
    ]);
    await until('event: pause');
    await until('"reason":"wrapup"');
    expect(text).not.toContain('"ext":"802"');
    expect(text).not.toContain('"exten":"802"');
  });
});
