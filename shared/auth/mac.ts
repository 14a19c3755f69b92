/**
 * A device's MAC as the edge addresses it: `68:69:2e:03:8b:3e`, `68-69-2E-03-8B-3E` or `68692e038b3e`
 * in, lower case with colons out; `undefined` for anything else (mixed separators included).
 */
export function normalizeMac(input: string): string | undefined {
  const m = /^([0-9a-f]{2})([:-]?)([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})$/i.exec(input);
  if (!m) return undefined;
  return [m[1], m[3], m[4], m[5], m[6], m[7]].join(':').toLowerCase();
}
