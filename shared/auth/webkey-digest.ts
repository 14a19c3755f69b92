/**
 * Checks an `Authorization` value against the WEBKEY digests accepted right now (hex md5, as the
 * document computes them). Pure JS so the edge can run it: the edge never sees the WEBKEY, only the
 * digests the agent sends it. Every candidate is compared in full, so the time taken does not tell
 * how close a guess was nor which day matched.
 */
export function matchesWebkeyDigest(authorization: string | undefined, digests: readonly string[]): boolean {
  const given = (authorization ?? '').trim().toLowerCase();
  let matched = 0;
  for (const digest of digests) matched |= equalConstantTime(given, digest.toLowerCase());
  return matched === 1 && given !== '';
}

/** 1 when equal, else 0; time depends only on the length of `expected`. */
function equalConstantTime(given: string, expected: string): number {
  let diff = given.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) diff |= (given.charCodeAt(i) || 0) ^ expected.charCodeAt(i);
  return diff === 0 ? 1 : 0;
}
