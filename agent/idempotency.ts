/**
 * Remembers the answer to a command sent with an Idempotency-Key, so a retry within the window gets
 * the first answer and does not act twice (a CRM retrying a timed-out click-to-dial must not ring
 * the agent twice). A retry that arrives while the first is still running waits for it. Failures are
 * forgotten: they did not act (or cannot say whether), and the caller may try again.
 */
export class IdempotencyCache {
  private readonly entries = new Map<string, { at: number; answer: Promise<unknown> }>();

  constructor(
    private readonly now: () => number,
    private readonly windowMs = 10 * 60_000,
    private readonly maxEntries = 10_000,
  ) {}

  run(key: string, act: () => Promise<unknown>): Promise<unknown> {
    this.expire();
    const hit = this.entries.get(key);
    if (hit) return hit.answer;
    const answer = act();
    this.entries.set(key, { at: this.now(), answer });
    answer.catch(() => {
      if (this.entries.get(key)?.answer === answer) this.entries.delete(key);
    });
    // Bounded: the oldest key goes first (Map keeps insertion order).
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    return answer;
  }

  private expire(): void {
    const cutoff = this.now() - this.windowMs;
    for (const [key, e] of this.entries) {
      if (e.at > cutoff) break;
      this.entries.delete(key);
    }
  }
}
