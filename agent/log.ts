export type Log = (entry: Record<string, unknown>) => void;

/** Structured logs: one JSON object per line on stderr, so stdout stays for the few human lines. */
export function jsonLog(base: Record<string, unknown> = {}, write: (line: string) => void = (l) => process.stderr.write(l)): Log {
  return (entry) => {
    write(JSON.stringify({ time: new Date().toISOString(), level: 'info', ...base, ...entry }) + '\n');
  };
}
