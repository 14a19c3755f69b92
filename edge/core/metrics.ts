/**
 * Counters in Prometheus text format. Labels are low-cardinality on purpose (no MAC): one edge holds
 * thousands of devices, and per-device numbers are in GET /devices/{mac}/status.
 */
export class Metrics {
  private readonly counters = new Map<string, { help: string; values: Map<string, number> }>();

  constructor(help: Record<string, string>) {
    for (const [name, text] of Object.entries(help)) this.counters.set(name, { help: text, values: new Map() });
  }

  inc(name: string, labels: Record<string, string> = {}, by = 1): void {
    const c = this.counters.get(name);
    if (!c) throw new Error(`unknown metric ${name}`);
    const key = Object.entries(labels)
      .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`)
      .join(',');
    c.values.set(key, (c.values.get(key) ?? 0) + by);
  }

  /** The counters, then the gauges measured now. */
  render(gauges: Record<string, { help: string; value: number }>): string {
    const lines: string[] = [];
    for (const [name, c] of this.counters) {
      lines.push(`# HELP ${name} ${c.help}`, `# TYPE ${name} counter`);
      if (c.values.size === 0) lines.push(`${name} 0`);
      for (const [labels, v] of c.values) lines.push(`${name}${labels ? `{${labels}}` : ''} ${v}`);
    }
    for (const [name, g] of Object.entries(gauges)) lines.push(`# HELP ${name} ${g.help}`, `# TYPE ${name} gauge`, `${name} ${g.value}`);
    return `${lines.join('\n')}\n`;
  }
}
