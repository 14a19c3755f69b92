import { BenchError } from './lib/bench-error.ts';
import type { Benchmark } from './lib/benchmark.ts';
import { cutIntoChunks, recordedServerStream } from './lib/ami-stream.ts';
import type { Results } from './lib/results.ts';
import { timeRounds } from './lib/rounds.ts';
import { amiParser } from './parsers/ami-parser.ts';
import { asteriskAmiClient } from './parsers/asterisk-ami-client.ts';
import { asteriskManager } from './parsers/asterisk-manager.ts';
import type { ParseCount, ParserUnderTest } from './parsers/parser-under-test.ts';

/** One Ethernet TCP segment's payload, and a socket read that found several segments waiting. */
const CHUNK_SIZES = [1460, 16 * 1024];
/** A few MB: long enough that a run is tens of ms for us, short enough for the slow peers. */
const STREAM_BYTES = 4 * 1024 * 1024;
const WARMUP = 3;
const ROUNDS = 9;
const TARGET_RATE = 600_000;
const TARGET_RATIO = 10;

const PEERS: readonly ParserUnderTest[] = [asteriskManager, asteriskAmiClient];

export const parserBenchmark: Benchmark = {
  name: 'parser',
  description: 'AMI parse throughput (raw chunks to message objects) on the recorded Asterisk 20 server bytes',
  async run(results) {
    const stream = recordedServerStream(STREAM_BYTES);
    for (const size of CHUNK_SIZES) {
      const chunks = cutIntoChunks(stream, size);
      const label = `parser, ${size} B chunks`;
      const messages = await checkCounts(results, label, chunks);
      const all = [amiParser, ...PEERS];
      const timings = await timeRounds(
        all.map((p) => ({ name: p.name, run: () => p.parse(chunks) })),
        { warmup: WARMUP, rounds: ROUNDS },
      );
      const rate = (p: ParserUnderTest) => messages / (timings.get(p.name)!.median / 1000);
      const best = Math.max(...PEERS.map(rate));
      const ours = results.add({ name: `${label}: ${amiParser.name}`, value: rate(amiParser), unit: 'messages/s', baseline: best });
      for (const peer of PEERS) results.add({ name: `${label}: ${peer.name}`, value: rate(peer), unit: 'messages/s' });
      if (ours.value < TARGET_RATE) results.note(`${label}: ours is below the ${TARGET_RATE.toLocaleString('en-US')} messages/s target`);
      if ((ours.ratio ?? 0) < TARGET_RATIO) results.note(`${label}: ours is below the ${TARGET_RATIO}x best-peer target`);
    }
    results.note(`stream: ${(stream.length / 1e6).toFixed(1)} MB; median of ${ROUNDS} interleaved rounds after ${WARMUP} warm-up; ratio = ours / fastest peer`);
  },
};

/** Every parser must hand out the same messages, or comparing their speeds means nothing. */
async function checkCounts(results: Results, label: string, chunks: readonly Buffer[]): Promise<number> {
  const counts: [ParserUnderTest, ParseCount][] = [];
  for (const p of [amiParser, ...PEERS]) counts.push([p, await p.parse(chunks)]);
  const expected = counts[0]![1].messages;
  const shown = counts
    .map(([p, c]) => `${p.name} ${c.messages.toLocaleString('en-US')}${c.empty ? ` (+${c.empty} empty for stray blank lines)` : ''}`)
    .join(', ');
  results.note(`${label}: messages: ${shown}`);
  const off = counts.filter(([, c]) => c.messages !== expected);
  if (off.length > 0) throw new BenchError(`${label}: parsers disagree on the number of messages: ${shown}`);
  return expected;
}
