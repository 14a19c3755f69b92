import { readFileSync } from 'node:fs';
import { MemoryOutbox, ScriptedDevice, startAgent, type TestAgent } from '../../test/support/edge-harness.ts';

/**
 * Many agents' tunnel clients in one process, each with an in-memory outbox prefilled with the same
 * events, so the edge, not the sender, is what a benchmark measures. argv: <edge url> <devices json
 * file: [{mac, token}]> <events per device> <body json>. Prints `ready` once the outboxes are filled,
 * connects every client on SIGUSR1, and closes them on SIGTERM.
 */
const [edgeUrl, devicesFile, perDeviceArg, bodyJson] = process.argv.slice(2);
const devices = JSON.parse(readFileSync(devicesFile!, 'utf8')) as { mac: string; token: string }[];
const perDevice = Number(perDeviceArg);
const body = JSON.parse(bodyJson!) as Record<string, unknown>;

const outboxes = devices.map((d, i) => {
  const outbox = new MemoryOutbox(`bench${i}`);
  for (let n = 0; n < perDevice; n++) outbox.append(String(body.event), { ...body, mac: d.mac, n });
  return outbox;
});
const agents: TestAgent[] = [];
process.on('SIGUSR1', () => {
  devices.forEach((d, i) => {
    agents.push(startAgent({ url: edgeUrl! }, { mac: d.mac, token: d.token, device: new ScriptedDevice(), outbox: outboxes[i]! }));
  });
});
process.on('SIGTERM', () => {
  for (const a of agents) a.client.close();
  process.exit(0);
});
// Signal listeners hold no handle: this keeps the process waiting for SIGUSR1.
setInterval(() => {}, 1 << 30);
process.stdout.write('ready\n');
