import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { AmiMessage } from '../agent/ami/message.ts';
import { AmiParser, type AmiFrame } from '../agent/ami/parser.ts';
import { EventPipeline } from '../agent/events/pipeline.ts';
import { Outbox } from '../agent/outbox/outbox.ts';
import { cutIntoChunks, recordedServerStream } from './lib/ami-stream.ts';
import type { Benchmark } from './lib/benchmark.ts';
import { timeRounds } from './lib/rounds.ts';
import { tempDir } from './lib/stack.ts';

/** Segment-sized TCP reads, as the agent's socket delivers them. */
const CHUNK = 16 * 1024;
const STREAM_BYTES = 4 * 1024 * 1024;
const WARMUP = 2;
const ROUNDS = 7;
const TARGET = 50_000;

/** What the agent's AmiClient hands its event listeners: events that answer no action. */
const isUnsolicited = (m: AmiMessage) => m.has('Event') && !m.has('ActionID');

export const eventsBenchmark: Benchmark = {
  name: 'events',
  description: 'AMI bytes to the durable outbox: parser, translators, cc_cdr journal and fsynced outbox appends',
  async run(results) {
    const chunks = cutIntoChunks(recordedServerStream(STREAM_BYTES), CHUNK);
    const tmp = tempDir('events');
    let round = 0;
    let current: { pipeline: EventPipeline; outbox: Outbox; dir: string } | null = null;
    const written: number[] = [];
    let amiEvents = 0;

    const parseOnly = () => {
      const parser = new AmiParser({ expectBanner: true });
      const frames: AmiFrame[] = [];
      let n = 0;
      for (const chunk of chunks) {
        parser.feed(chunk, frames);
        for (const f of frames) if (f.kind === 'message' && isUnsolicited(f.message)) n++;
        frames.length = 0;
      }
      amiEvents = n;
    };

    try {
      const timings = await timeRounds(
        [
          { name: 'parse', run: parseOnly },
          {
            name: 'pipeline',
            async prepare() {
              await closeRound(current, written);
              const dir = join(tmp.dir, String(round++));
              // A fixed clock and zone, so every round writes the same records.
              const now = () => 1_760_000_000_000;
              const outbox = await Outbox.open({ dir: join(dir, 'outbox'), now });
              const pipeline = await EventPipeline.open({ mac: '02:00:00:00:be:01', timeZone: 'UTC', monitorDir: '/var/spool/asterisk/monitor', outbox, stateDir: join(dir, 'cc_cdr'), now });
              current = { pipeline, outbox, dir };
            },
            async run() {
              const { pipeline } = current!;
              const parser = new AmiParser({ expectBanner: true });
              const frames: AmiFrame[] = [];
              for (const chunk of chunks) {
                parser.feed(chunk, frames);
                const t = Date.now();
                for (const f of frames) if (f.kind === 'message' && isUnsolicited(f.message)) pipeline.push(f.message, t);
                frames.length = 0;
                // One socket read per chunk: the disk writes run between reads, as they do in the agent.
                await new Promise((r) => setImmediate(r));
              }
              await pipeline.flush();
            },
          },
        ],
        { warmup: WARMUP, rounds: ROUNDS },
      );
      await closeRound(current, written);

      const rate = (name: string) => amiEvents / (timings.get(name)!.median / 1000);
      const ours = results.add({ name: 'events: AMI bytes to fsynced outbox', value: rate('pipeline'), unit: 'AMI events/s', baseline: rate('parse') });
      results.add({ name: 'events: raw parse of the same bytes', value: rate('parse'), unit: 'AMI events/s' });
      const docs = new Set(written);
      const perRound = written[0] ?? 0;
      results.add({ name: 'events: documented events written', value: perRound / (timings.get('pipeline')!.median / 1000), unit: 'events/s' });
      results.note(
        `events: ${amiEvents.toLocaleString('en-US')} unsolicited AMI events per round (of ${(STREAM_BYTES / 1e6).toFixed(1)} MB recorded bytes), ` +
          `${[...docs].join('/')} documented events written; ratio = pipeline / parse alone; median of ${ROUNDS} rounds`,
      );
      if (docs.size > 1) results.note('events: rounds wrote different numbers of documented events');
      if (ours.value < TARGET) results.note(`events: below the ${TARGET.toLocaleString('en-US')} events/s target`);
    } finally {
      tmp.remove();
    }
  },
};

/** Closes a round's pipeline and outbox, records how many documented events it wrote, frees its disk. */
async function closeRound(round: { pipeline: EventPipeline; outbox: Outbox; dir: string } | null, written: number[]): Promise<void> {
  if (!round) return;
  await round.pipeline.close();
  written.push(round.outbox.stats().nextSeq - 1);
  await round.outbox.close();
  rmSync(round.dir, { recursive: true, force: true });
}
