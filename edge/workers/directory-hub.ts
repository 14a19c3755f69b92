import { systemClock } from '../../shared/clock.ts';
import { Hub, type TunnelInfo } from '../core/hub.ts';
import type { SqlDriver } from '../core/sql-store.ts';

/**
 * The registry's view of every device's tunnel, as device objects report it when a tunnel comes
 * or goes: enough for GET /admin/devices, /healthz and /metrics without waking every device object.
 * Holds no sessions itself.
 */
export class DirectoryHub extends Hub {
  constructor(private readonly db: SqlDriver, log: (entry: Record<string, unknown>) => void) {
    super({ clock: systemClock, log });
    db.script('CREATE TABLE IF NOT EXISTS tunnels (mac TEXT PRIMARY KEY, info TEXT NOT NULL)');
  }

  report(mac: string, info: TunnelInfo): void {
    this.db.run('INSERT OR REPLACE INTO tunnels (mac, info) VALUES (?, ?)', mac, JSON.stringify(info));
  }

  forget(mac: string): void {
    this.db.run('DELETE FROM tunnels WHERE mac = ?', mac);
  }

  override info(mac: string): TunnelInfo {
    const row = this.db.all<{ info: string }>('SELECT info FROM tunnels WHERE mac = ?', mac)[0];
    return row ? (JSON.parse(row.info) as TunnelInfo) : super.info(mac);
  }

  override get onlineCount(): number {
    return this.all().filter((i) => i.online).length;
  }

  override totals(): { replacements: number; conflicts: number } {
    const all = this.all();
    return { replacements: all.reduce((n, i) => n + i.replacements, 0), conflicts: all.reduce((n, i) => n + i.conflicts, 0) };
  }

  private all(): TunnelInfo[] {
    return this.db.all<{ info: string }>('SELECT info FROM tunnels').map((r) => JSON.parse(r.info) as TunnelInfo);
  }
}
