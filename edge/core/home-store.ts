/** An edge instance as the others reach it. */
export interface Instance {
  id: string;
  /** Base URL the other instances forward to, e.g. `http://10.0.0.5:8787`. */
  url: string;
}

/** What instances tell each other through the store (PostgreSQL: NOTIFY). */
export type ClusterMessage =
  /** Close mac's tunnel wherever it is: the device was deleted or its token rotated. */
  | { kind: 'revoke'; mac: string; reason: string }
  /** Events of mac were committed by an instance that is not its home: the home should send them. */
  | { kind: 'nudge'; mac: string };

/**
 * Where the cluster keeps who is alive and which instance is each device's home. An instance is
 * alive while it has been heard from within the lease (the store's own clock decides, so hosts'
 * clocks need not agree); a home whose instance is not alive is free to take.
 */
export interface HomeStore {
  /** Marks the instance alive; returns the MACs the store has it home of. */
  heartbeat(instance: Instance): Promise<string[]>;
  /** mac's home, when its instance is alive. */
  home(mac: string): Promise<Instance | null>;
  /**
   * Makes `instance` mac's home when the home is now `from`, is `instance` already, or is not alive.
   * False when another live instance holds it.
   */
  take(mac: string, instance: string, from: string | null, online: boolean): Promise<boolean>;
  /** Marks mac online or not, if `instance` is its home. */
  setOnline(mac: string, instance: string, online: boolean): Promise<void>;
  /** Of these MACs, those online at a live home. */
  online(macs: readonly string[]): Promise<Set<string>>;
  /** Takes up to n devices with events waiting and no live home. */
  claimOrphans(instance: string, n: number): Promise<string[]>;
  /** A clean stop: the instance's homes are free now rather than when its lease runs out. */
  leave(instance: string): Promise<void>;
  /** Sends to every instance, this one included. */
  broadcast(message: ClusterMessage): Promise<void>;
  /** Calls listener with each message; the store re-subscribes by itself after a reconnect. */
  listen(listener: (message: ClusterMessage) => void): Promise<() => Promise<void>>;
  /** The secret instances show each other on internal requests; made once, kept in the store. */
  secret(): Promise<string>;
}
