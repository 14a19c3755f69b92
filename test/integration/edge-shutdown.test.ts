import { afterEach, expect, it } from 'vitest';
import { MemoryOutbox, provision, ScriptedDevice, startAgent, startEdge, tempDataDir, until } from '../support/edge-harness.ts';

const MAC = '68:69:2e:03:8b:3e';
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/**
 * An edge winding down its deliveries while its agent reconnects every 50 ms (behind nginx, the
 * agent reaches any instance, closing or not). A tunnel let into the closing edge kept its server
 * from ever closing: a restart of every edge at once hung until the agent gave up.
 */
it('a closing edge lets no reconnecting agent in, and its close finishes', async () => {
  const data = tempDataDir();
  cleanups.push(data.remove);
  let posts = 0;
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  // A webhook POST that outlasts the close's abort, as a slow store write after it does.
  const fetch: typeof globalThis.fetch = async () => {
    posts++;
    await held;
    return new Response(null, { status: 200 });
  };
  const edge = await startEdge(data.dir, { fetch });
  cleanups.push(() => release());
  const secrets = await provision(edge, MAC, { url: 'http://127.0.0.1:9/hook' });
  const outbox = new MemoryOutbox();
  outbox.append('cdr', { event: 'cdr', n: 0 });
  const agent = startAgent(edge, { mac: MAC, token: secrets.token, device: new ScriptedDevice(), outbox });
  cleanups.push(() => agent.client.close());
  await until(() => posts === 1, 'the webhook in flight');

  let closed = false;
  const closing = edge.close().then(() => (closed = true));
  const before = agent.statuses.length;
  const since = (status: string) => agent.statuses.slice(before).filter((s) => s.status === status).length;
  await until(() => since('reconnecting') >= 3 || since('online') > 0, 'the agent reconnecting while the edge closes');
  expect(since('online'), 'the agent got back into the closing edge').toBe(0);
  release();
  await until(() => closed, 'the close finished while the agent kept reconnecting');
  await closing;
});
