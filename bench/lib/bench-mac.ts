/** The MAC of bench device number i (up to 65,536 of them), in the edge's normal form. */
export function benchMac(i: number): string {
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return `02:00:00:00:${hex(i >> 8)}:${hex(i & 255)}`;
}
