/**
 * What the agent's Node runs with, baked into the single executable (scripts/build.ts) and written
 * on the systemd unit's .mjs line. A PBX is a small shared box and the agent's working set is small
 * (events wait on disk, not in memory); V8 sized for throughput lets the young generation grow to tens
 * of MiB under load. bench agent-rss: private memory under load 81 MiB without them, 54 MiB with.
 */
export const AGENT_V8_FLAGS: readonly string[] = ['--optimize-for-size', '--max-semi-space-size=1'];
