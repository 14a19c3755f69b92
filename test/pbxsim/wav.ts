/** 8 kHz 16-bit mono PCM silence with a RIFF header, so players and Range requests have real bytes. */
export function silentWav(ms: number): Uint8Array {
  const samples = Math.max(1, Math.round((ms / 1000) * 8000));
  const data = samples * 2;
  const buf = new Uint8Array(44 + data);
  const v = new DataView(buf.buffer);
  const ascii = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) buf[at + i] = s.charCodeAt(i);
  };
  ascii(0, 'RIFF');
  v.setUint32(4, 36 + data, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, 1, true);
  v.setUint32(24, 8000, true);
  v.setUint32(28, 16000, true);
  v.setUint16(32, 2, true);
  v.setUint16(34, 16, true);
  ascii(36, 'data');
  v.setUint32(40, data, true);
  return buf;
}
