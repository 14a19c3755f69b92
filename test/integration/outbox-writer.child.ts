// Child process for the kill -9 test: appends events from three concurrent writers (so group commit
// batches them) and prints `seq n` for each event once appendMany said it is on disk.
import { Outbox } from '../../agent/outbox/outbox.ts';

const dir = process.argv[2];
if (!dir) throw new Error('usage: outbox-writer.child.ts <dir>');
const box = await Outbox.open({ dir, segmentBytes: 8 * 1024, maxBytes: 1024 * 1024 * 1024 });
let n = 0;

async function writer(): Promise<never> {
  for (;;) {
    const events = Array.from({ length: 1 + (n % 4) }, () => ({ type: 'hangup', body: JSON.stringify({ n: n++ }) }));
    const seqs = await box.appendMany(events);
    process.stdout.write(seqs.map((seq, i) => `${seq} ${(JSON.parse(events[i]!.body) as { n: number }).n}\n`).join(''));
  }
}

await Promise.all([writer(), writer(), writer()]);
