import { spawnNode, type Child } from './child.ts';

/** The counting receiver in a child (bench/lib/receiver-child.ts), driven over its control port. */
export interface ReceiverProcess extends Child {
  /** Where senders POST. */
  url: string;
  count(): Promise<number>;
  /** Resolves once `n` POSTs in all have arrived. */
  reached(n: number): Promise<void>;
}

export async function spawnReceiver(): Promise<ReceiverProcess> {
  const child = await spawnNode(['bin/run-ts.js', 'bench/lib/receiver-child.ts'], { ready: /^receiver (\S+) (\S+)$/ });
  const control = child.ready[2]!;
  return Object.assign(child, {
    url: child.ready[1]!,
    count: async () => Number(await (await fetch(`${control}/count`)).text()),
    reached: async (n: number) => void (await (await fetch(`${control}/reached?n=${n}`)).text()),
  });
}
