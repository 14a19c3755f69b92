import { expect, it } from 'vitest';
import { TunnelClient } from '../../agent/tunnel/client.ts';
import type { TunnelSocketHandlers } from '../../agent/tunnel/socket.ts';
import { PROTOCOL_VERSION } from '../../shared/tunnel/frames.ts';
import { MemoryOutbox, ScriptedDevice } from '../support/edge-harness.ts';
import { ManualClock } from '../support/manual-clock.ts';

it('a status change while the hello waits for its welcome reaches the edge once welcomed', () => {
  const sent: Record<string, unknown>[] = [];
  let handlers: TunnelSocketHandlers | undefined;
  let ami: 'authenticating' | 'ready' = 'authenticating';
  const outbox = new MemoryOutbox();
  const client = new TunnelClient({
    url: 'ws://edge.invalid/agent/tunnel',
    token: 't',
    mac: '02:00:00:00:00:01',
    connect: (_url, _headers, h) => {
      handlers = h;
      return { send: (d) => void sent.push(JSON.parse(String(d)) as Record<string, unknown>), close: () => undefined, bufferedAmount: 0 };
    },
    device: new ScriptedDevice(),
    outbox,
    clock: new ManualClock(0),
    hello: () => ({
      agentVersion: 't', timeZone: 'UTC', driver: ami === 'ready' ? 'sip' : null, url: null, popUrl: null,
      wrapup: { enabled: false, seconds: 0 }, ami, webkeyDigests: [], outbox: outbox.state(), gaps: [],
    }),
  });
  client.start();
  handlers!.onOpen();
  expect(sent.map((f) => f.t)).toEqual(['hello']);
  expect(sent[0]).toMatchObject({ ami: 'authenticating', driver: null });
  // AMI logs in before the edge has welcomed: nothing may be sent yet, and nothing may be lost.
  ami = 'ready';
  client.sendStatus();
  expect(sent.map((f) => f.t)).toEqual(['hello']);
  handlers!.onText(JSON.stringify({ t: 'welcome', v: PROTOCOL_VERSION, committed: null, heartbeatMs: 25_000 }));
  expect(sent.filter((f) => f.t === 'status')).toEqual([expect.objectContaining({ ami: 'ready', driver: 'sip' })]);
  client.close();
});
