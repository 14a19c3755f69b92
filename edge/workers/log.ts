/** Structured logs, one JSON object per line; Workers Logs and `wrangler tail` index them. */
export const log = (entry: Record<string, unknown>): void => console.log(JSON.stringify({ time: new Date().toISOString(), ...entry }));

/** The edge's tuning from wrangler vars (strings), with the Node edge's defaults. */
export const msVar = (value: string | undefined): number | undefined => {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : undefined;
};

export const listVar = (value: string | undefined): string[] => (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
