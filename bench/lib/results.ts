import { writeFileSync } from 'node:fs';

/** One measured figure, as written to bench/results.json. */
export interface Figure {
  name: string;
  value: number;
  /** Says "lower is better" when it is; otherwise higher is better. */
  unit: string;
  /** The figure this one is compared to, measured in the same run; null when it is itself a baseline. */
  baseline: number | null;
  /** How many times better than the baseline: value / baseline, or baseline / value when lower is better. */
  ratio: number | null;
}

export interface FigureInput {
  name: string;
  value: number;
  unit: string;
  baseline?: number;
  lowerIsBetter?: boolean;
}

const LOWER_IS_BETTER = ' (lower is better)';

/** Collects the figures every benchmark registers in one run, then prints and saves them together. */
export class Results {
  private readonly figures: Figure[] = [];
  private readonly notes: string[] = [];

  add(input: FigureInput): Figure {
    const lower = input.lowerIsBetter ?? false;
    const unit = lower && !input.unit.endsWith(LOWER_IS_BETTER) ? input.unit + LOWER_IS_BETTER : input.unit;
    const baseline = input.baseline ?? null;
    let ratio: number | null = null;
    if (baseline !== null && baseline > 0 && input.value > 0) ratio = lower ? baseline / input.value : input.value / baseline;
    const figure: Figure = { name: input.name, value: input.value, unit, baseline, ratio };
    this.figures.push(figure);
    return figure;
  }

  /** A line printed under the table: why a count differs, what a figure leaves out. */
  note(text: string): void {
    this.notes.push(text);
  }

  table(): string {
    const rows = [['figure', 'value', 'unit', 'baseline', 'ratio']];
    for (const f of this.figures) {
      rows.push([
        f.name,
        formatNumber(f.value),
        f.unit,
        f.baseline === null ? '-' : formatNumber(f.baseline),
        f.ratio === null ? '-' : `${f.ratio.toFixed(2)}x`,
      ]);
    }
    const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
    // Text columns align left, numeric ones right.
    const line = (r: string[]) =>
      r.map((cell, col) => (col === 0 || col === 2 ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!))).join('  ');
    const out = [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)];
    for (const n of this.notes) out.push(`note: ${n}`);
    return out.join('\n');
  }

  write(path: string): void {
    writeFileSync(path, JSON.stringify(this.figures, null, 2) + '\n');
  }
}

function formatNumber(n: number): string {
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString('en-US');
  return n.toPrecision(3);
}
