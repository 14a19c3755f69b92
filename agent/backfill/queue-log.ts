import { fileLines, rotatedFiles } from './log-files.ts';

/**
 * One line of Asterisk's queue_log as app_queue writes it through ast_queue_log:
 * `epoch|callid|queue|agent|event|data1|data2|...` (callid is the caller channel's uniqueid, agent
 * the member's name; NONE where there is none).
 */
export interface QueueLogEntry {
  /** Epoch ms (the file has whole seconds). */
  at: number;
  callid: string;
  queue: string;
  agent: string;
  event: string;
  data: string[];
}

export function parseQueueLogLine(line: string): QueueLogEntry | null {
  const parts = line.split('|');
  if (parts.length < 5 || !/^\d+$/.test(parts[0]!)) return null;
  const [time, callid, queue, agent, event, ...data] = parts as [string, string, string, string, string, ...string[]];
  return { at: Number(time) * 1000, callid, queue, agent, event, data };
}

/**
 * The entries written in [fromMs, toMs], from the file and its rotated copies. Lines that are not
 * queue_log lines are counted, not thrown: a damaged line must not stop a backfill.
 */
export async function readQueueLog(path: string, fromMs: number, toMs: number): Promise<{ entries: QueueLogEntry[]; unreadable: number }> {
  const entries: QueueLogEntry[] = [];
  let unreadable = 0;
  for (const file of await rotatedFiles(path, fromMs)) {
    for await (const line of fileLines(file)) {
      const e = parseQueueLogLine(line);
      if (!e) unreadable++;
      else if (e.at >= fromMs && e.at <= toMs) entries.push(e);
    }
  }
  return { entries, unreadable };
}
