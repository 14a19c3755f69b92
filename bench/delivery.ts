import { join } from 'node:path';
import { Outbox } from '../agent/outbox/outbox.ts';
import { Delivery } from '../shared/delivery/delivery.ts';
import { WebhookSigner, webhookId } from '../shared/delivery/signature.ts';
import type { Benchmark } from './lib/benchmark.ts';
import { CountingReceiver } from './lib/receiver.ts';
import { timeRounds } from './lib/rounds.ts';
import { BENCH_MAC, tempDir } from './lib/stack.ts';

const EVENTS = 1500;
const WARMUP = 1;
const ROUNDS = 5;
const TARGET = 2_000;
const SECRET = 'whsec_' + Buffer.from('bench webhook secret').toString('base64');
/** A documented event of typical size (a dialbegein is ~400 B). */
const BODY = JSON.stringify({
  event: 'dialbegein',
  mac: BENCH_MAC,
  uniqueid: '1762591289.101',
  timestamp: '1762591289.123456',
  calleridnum: '806',
  calleridname: 'Agent 806',
  channel: 'SIP/806-00000031',
  destcalleridnum: '13800138000',
  destchannel: 'SIP/trunk-00000032',
  padding: 'x'.repeat(200),
});

export const deliveryBenchmark: Benchmark = {
  name: 'delivery',
  description: 'outbox to a loopback receiver, one signed POST per event, in order, beside a plain fetch loop',
  async run(results) {
    const receiver = await new CountingReceiver().start();
    const tmp = tempDir('delivery');
    let round = 0;
    let outbox: Outbox | null = null;
    try {
      const timings = await timeRounds(
        [
          {
            name: 'delivery',
            async prepare() {
              await outbox?.close();
              outbox = await Outbox.open({ dir: join(tmp.dir, String(round++)) });
              await outbox.appendMany(Array.from({ length: EVENTS }, () => ({ type: 'dialbegein', body: BODY })));
            },
            async run() {
              const box = outbox!;
              const target = receiver.count + EVENTS;
              const delivery = new Delivery({ queue: box, url: receiver.url, mac: BENCH_MAC, secret: SECRET });
              delivery.kick();
              await receiver.reached(target);
              // The last POST is in; its ack follows within the same turn of the loop.
              while (box.stats().waiting > 0) await new Promise((r) => setImmediate(r));
              await delivery.close();
            },
          },
          {
            name: 'fetch loop',
            async run() {
              // The floor: the same signed POSTs, one at a time, with no queue behind them.
              const signer = await WebhookSigner.create(SECRET);
              for (let seq = 1; seq <= EVENTS; seq++) {
                const id = webhookId(BENCH_MAC, 'bench', seq);
                const ts = Math.floor(Date.now() / 1000);
                const res = await fetch(receiver.url, {
                  method: 'POST',
                  headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': await signer.sign(id, ts, BODY) },
                  body: BODY,
                });
                await res.body?.cancel();
              }
            },
          },
        ],
        { warmup: WARMUP, rounds: ROUNDS },
      );
      await (outbox as Outbox | null)?.close();
      const rate = (name: string) => EVENTS / (timings.get(name)!.median / 1000);
      const ours = results.add({ name: 'delivery: outbox to receiver, 1 device', value: rate('delivery'), unit: 'events/s', baseline: rate('fetch loop') });
      results.add({ name: 'delivery: plain signed fetch loop (floor)', value: rate('fetch loop'), unit: 'events/s' });
      results.note(`delivery: ${EVENTS} events of ${BODY.length} B per round, fsynced outbox with acks; ratio = delivery / fetch loop; median of ${ROUNDS} rounds`);
      if (ours.value < TARGET) results.note(`delivery: below the ${TARGET.toLocaleString('en-US')} events/s per device target`);
    } finally {
      await receiver.close();
      tmp.remove();
    }
  },
};
