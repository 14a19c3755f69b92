/**
 * Binary tunnel frames carry recording bytes: a 4-byte big-endian stream id, then the payload.
 * Text frames say where a stream starts (`file`) and ends (`eof`); credit frames bound how much may be
 * in flight, so a 50 MB file never sits in memory on either side.
 */
export const BINARY_HEADER = 4;
/** Largest payload of one binary frame. */
export const CHUNK_BYTES = 64 * 1024;
/** Credit the edge grants at first and tops up as the HTTP client reads. */
export const STREAM_WINDOW = 512 * 1024;

export function encodeChunk(id: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(BINARY_HEADER + payload.byteLength);
  new DataView(out.buffer).setUint32(0, id);
  out.set(payload, BINARY_HEADER);
  return out;
}

export function decodeChunk(frame: Uint8Array): { id: number; payload: Uint8Array } | null {
  if (frame.byteLength < BINARY_HEADER) return null;
  const id = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(0);
  return { id, payload: frame.subarray(BINARY_HEADER) };
}
