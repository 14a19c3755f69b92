import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** Rewrites one line the PBX sends (`PausedReason: wrapup`); null drops it. */
export type LineEdit = (line: string) => string | null;

export interface AmiProxy {
  port: number;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of an AMI server (the simulator) that edits what the agent reads, line by line,
 * so one simulator plays an older Asterisk: headers it did not send yet are dropped, the version it
 * reports is another. What the agent sends goes through unchanged.
 */
export async function startAmiProxy(targetPort: number, ...edits: LineEdit[]): Promise<AmiProxy> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    let partial = '';
    upstream.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\r\n');
      // The last piece has no CRLF yet: it is completed by the next chunk.
      partial = lines.pop() ?? '';
      const out: string[] = [];
      for (const line of lines) {
        const edited = line === '' ? line : edits.reduce<string | null>((l, edit) => (l === null ? null : edit(l)), line);
        if (edited !== null) out.push(`${edited}\r\n`);
      }
      if (out.length > 0 && !client.destroyed) client.write(out.join(''));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Drops the named headers from every message. */
export const dropHeaders =
  (...names: string[]): LineEdit =>
  (line) =>
    names.some((n) => line.startsWith(`${n}:`)) ? null : line;

/** Reports another Asterisk version in CoreSettings. */
export const reportVersion =
  (version: string): LineEdit =>
  (line) =>
    line.startsWith('AsteriskVersion:') ? `AsteriskVersion: ${version}` : line;

/** Queue member headers Asterisk before 13.8 does not send: without PausedReason, wrap-up relies on its memory. */
export const BEFORE_13_8 = ['PausedReason', 'Wrapuptime', 'LoginTime'];
