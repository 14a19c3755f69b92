import { loadTranscript, transcriptNames, type Driver } from '../../test/support/transcript.ts';

const DRIVERS: readonly Driver[] = ['chan_sip', 'pjsip'];

/**
 * Everything Asterisk sent in every recorded session, as one long AMI connection of at least minBytes:
 * the banner once, then each session's messages in recorded order, the whole body repeated. Later
 * sessions' banners are dropped because one connection greets once; a parser fed a second banner
 * mid-stream would see a line that is not a header.
 */
export function recordedServerStream(minBytes: number): Buffer {
  let banner: Buffer | undefined;
  const bodies: Buffer[] = [];
  for (const driver of DRIVERS) {
    for (const name of transcriptNames(driver)) {
      const server = loadTranscript(driver, name).server;
      const eol = server.indexOf('\r\n') + 2;
      banner ??= server.subarray(0, eol);
      bodies.push(server.subarray(eol));
    }
  }
  if (!banner) throw new Error('no AMI transcripts found under test/fixtures/ami');
  const body = Buffer.concat(bodies);
  const copies = Math.max(1, Math.ceil((minBytes - banner.length) / body.length));
  return Buffer.concat([banner, ...Array<Buffer>(copies).fill(body)]);
}

/** Cuts a stream the way TCP reads deliver it: fixed-size pieces that split lines and characters anywhere. */
export function cutIntoChunks(stream: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < stream.length; at += size) chunks.push(stream.subarray(at, at + size));
  return chunks;
}
