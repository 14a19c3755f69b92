import { createHttpPost } from '../../shared/node/http-post.ts';

/**
 * The edge-events floor: concurrent loops of POSTs, one in flight per loop as the edge's per-device
 * delivery has, through the HTTP client the Node edge delivers with, from a process of their own.
 * argv: <url> <loops> <posts per loop> <body json>. Prints `ready`, runs on SIGUSR1, exits on SIGTERM.
 */
const [url, loopsArg, perLoopArg, body] = process.argv.slice(2);
const post = createHttpPost();

async function run(): Promise<void> {
  await Promise.all(
    Array.from({ length: Number(loopsArg) }, async () => {
      for (let n = 0; n < Number(perLoopArg); n++) {
        const res = await post(url!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body! });
        await res.body?.cancel();
      }
    }),
  );
}

process.on('SIGUSR1', () => void run());
process.on('SIGTERM', () => process.exit(0));
// Signal listeners hold no handle: this keeps the process waiting for SIGUSR1.
setInterval(() => {}, 1 << 30);
process.stdout.write('ready\n');
