import type { AgentConfig } from '../config.ts';
import type { ExtensionDirectory } from '../extensions.ts';
import type { OutboxEvent } from '../outbox/outbox.ts';
import type { Gap, GapLog } from '../outbox/gap-log.ts';
import { planBackfill, type BackfillSources } from './backfill.ts';
import { CdrCsvSource } from './cdr-csv.ts';
import { cdrDbName, type CdrSource } from './cdr-record.ts';
import type { RecordContext } from './record-events.ts';

/** The box's record sources api.conf names; the CDR database wins over Master.csv when both are set. */
export function backfillSources(config: Pick<AgentConfig, 'paths' | 'cdrdb' | 'backfill'>, timeZone: string): BackfillSources {
  const csvZone = config.backfill.cdrCsvGmt ? 'UTC' : timeZone;
  const cdr = config.cdrdb ? lazyMysqlSource(config.cdrdb, timeZone) : config.paths.cdrCsv ? new CdrCsvSource(config.paths.cdrCsv, csvZone) : null;
  return { cdr, queueLog: config.paths.queueLog ?? null };
}

/**
 * The MySQL source, loaded when first used: mysql2 and its character-set tables are half the agent's
 * code, and most boxes never set [cdrdb].
 */
function lazyMysqlSource(db: NonNullable<AgentConfig['cdrdb']>, timeZone: string): CdrSource {
  let source: Promise<CdrSource> | null = null;
  const load = () => (source ??= import('./cdr-mysql.ts').then((m) => new m.MysqlCdrSource(db, timeZone)));
  return {
    name: cdrDbName(db),
    read: async (from, to) => (await load()).read(from, to),
    check: async () => (await load()).check(),
    close: async () => (source ? (await source).close() : undefined),
  };
}

export interface GapBackfillOptions {
  gaps: GapLog;
  pipeline: {
    backfill(events: readonly { type: string; body: string; id: string }[], calls: readonly string[]): Promise<OutboxEvent[]>;
    flush(): Promise<void>;
    readonly extensions: ExtensionDirectory;
  };
  sources: BackfillSources;
  context: Omit<RecordContext, 'directory'>;
  maxWindowMs: number;
  now(): number;
  log(entry: Record<string, unknown>): void;
  /** A gap's backfill state changed: the edge's status should say so. */
  onChange(): void;
}

/**
 * Fills the agent's gaps from the box's own records, one gap at a time, after AMI is back (and its
 * hints read, so trunks are told from phones). A gap whose backfill a restart cut short is run
 * again; what it had sent is skipped by record id.
 */
export class GapBackfill {
  private running: Promise<void> | null = null;
  private again = false;

  constructor(private readonly opts: GapBackfillOptions) {}

  run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.drain().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  async close(): Promise<void> {
    await this.running;
    await this.opts.sources.cdr?.close();
  }

  private async drain(): Promise<void> {
    do {
      this.again = false;
      for (const gap of this.opts.gaps.pendingBackfill()) await this.fill(gap);
    } while (this.again);
  }

  private async fill(gap: Gap): Promise<void> {
    const { gaps, pipeline, log } = this.opts;
    // Gaps closed long ago (before this agent could backfill, e.g. an upgrade) are not sent days late.
    if (gap.to < this.opts.now() - this.opts.maxWindowMs) {
      await gaps.record(gap.from, gap.to, { state: 'skipped', cdr: 0, ccCdr: 0, detail: 'closed longer ago than [backfill] max_window: not read' });
      return;
    }
    await gaps.record(gap.from, gap.to, { state: 'running', cdr: 0, ccCdr: 0, detail: '' });
    this.opts.onChange();
    // The hints seeded after login are in the directory once the pipeline has taken them.
    await pipeline.flush();
    try {
      const plan = await planBackfill(gap, this.opts.sources, { ...this.opts.context, directory: pipeline.extensions }, this.opts.maxWindowMs);
      const written = plan.events.length > 0 || plan.calls.length > 0 ? await pipeline.backfill(plan.events, plan.calls) : [];
      const cdr = written.filter((e) => e.type === 'cdr').length;
      const report = { ...plan.report, cdr, ccCdr: written.length - cdr };
      await gaps.record(gap.from, gap.to, report);
      log({ level: report.state === 'filled' || report.state === 'none' ? 'info' : 'warn', msg: 'gap backfilled', from: gap.from, to: gap.to, ...report, alreadySent: plan.events.length - written.length });
    } catch (e) {
      await gaps.record(gap.from, gap.to, { state: 'failed', cdr: 0, ccCdr: 0, detail: (e as Error).message });
      log({ level: 'error', msg: 'gap backfill failed', from: gap.from, to: gap.to, error: (e as Error).message });
    }
    this.opts.onChange();
  }
}
