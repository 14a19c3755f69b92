/**
 * Delivered events stay replayable this long (`POST /admin/devices/{mac}/replay`), on both edges;
 * then they are pruned: by the Node edge every hour (edge/node/server.ts), by each Workers device
 * object on its alarm (edge/workers/retention.ts).
 */
export const KEEP_DELIVERED_MS = 7 * 24 * 3600_000;
