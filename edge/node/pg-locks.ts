/**
 * Advisory lock keys of the PostgreSQL store. They use the two-int form (space, key), which
 * PostgreSQL keeps apart from one-bigint keys, so a lock another part of the edge takes on a
 * bigint (a hash of a MAC, say) never waits on these. Add a space here rather than reuse one.
 */
export const PG_LOCK_SPACE = {
  /** (space, 0), session lock: one edge at a time applies migrations. */
  migrations: 0x636f6f00,
  /** (space, hashtext(mac)), transaction lock: one transaction at a time writes a device's event line. */
  deviceEvents: 0x636f6f01,
} as const;
