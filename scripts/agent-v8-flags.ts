/**
 * What the agent's Node runs with, baked into the single executable (scripts/build.ts) and written
 * on the systemd unit's .mjs line. A PBX is a small shared box and the agent's working set is small
 * (events wait on disk, not in memory). bench agent-rss, private memory (RssAnon) under load, Node 20:
 * - V8 sized for throughput lets the young generation grow to tens of MiB: 81 MiB without flags,
 *   40-47 MiB with `--optimize-for-size --max-semi-space-size=1`;
 * - each GC and compiler helper thread keeps a malloc arena of its own: 36-40 MiB with one platform
 *   thread and the GC on the main thread, at the same events/s (a young GC of a 1 MiB semi-space is
 *   well under a millisecond).
 */
export const AGENT_V8_FLAGS: readonly string[] = ['--optimize-for-size', '--max-semi-space-size=1', '--v8-pool-size=1', '--single-threaded-gc'];

/**
 * The environment the systemd unit gives the agent. glibc's malloc raises its mmap threshold to the
 * size of each large block freed, after which such blocks come from the main heap and, freed, stay
 * there under what is still in use: one start in three or four kept 5.7 MiB more (bench agent-rss,
 * idle). A fixed threshold gives large blocks back when they are freed.
 */
export const AGENT_ENV: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: '131072' };
