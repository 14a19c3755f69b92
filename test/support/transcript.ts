import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const FIXTURES = fileURLToPath(new URL('../fixtures/ami/', import.meta.url));
export type Driver = 'chan_sip' | 'pjsip';

export interface Transcript {
  name: string;
  /** Exact bytes the server sent, CRLF kept. */
  server: Buffer;
  /** Exact bytes the client sent (the `>>> ` lines, prefix removed). */
  client: Buffer;
  /** The stream in order: each client block and the server bytes that followed it. */
  steps: { client: string; server: string }[];
}

/** Rebuilds both byte streams of a recorded AMI session, as the fixtures' README describes. */
export function loadTranscript(driver: Driver, name: string): Transcript {
  const raw = readFileSync(join(FIXTURES, driver, name), 'latin1');
  const lines = raw.split('\r\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let server = '';
  let client = '';
  const steps: { client: string; server: string }[] = [{ client: '', server: '' }];
  let lastWasClient = false;
  for (const line of lines) {
    if (line.startsWith('>>> ')) {
      const l = line.slice(4) + '\r\n';
      client += l;
      if (!lastWasClient) steps.push({ client: '', server: '' });
      (steps[steps.length - 1] as { client: string }).client += l;
      lastWasClient = true;
    } else {
      const l = line + '\r\n';
      server += l;
      (steps[steps.length - 1] as { server: string }).server += l;
      lastWasClient = false;
    }
  }
  // The file is read as latin1 so each byte maps to one char; turn back into the original bytes.
  const toBuf = (s: string) => Buffer.from(s, 'latin1');
  return {
    name,
    server: toBuf(server),
    client: toBuf(client),
    steps: steps.map((s) => ({ client: toBuf(s.client).toString('utf8'), server: toBuf(s.server).toString('utf8') })),
  };
}

export function transcriptNames(driver: Driver): string[] {
  return readdirSync(join(FIXTURES, driver)).filter((f) => f.endsWith('.txt')).sort();
}
