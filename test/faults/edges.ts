import { join } from 'node:path';
import type { Clock } from '../../shared/clock.ts';
import { startEdge } from '../support/edge-harness.ts';
import { startWorkersEdge } from '../support/workers-edge.ts';

/** One running edge, whatever the runtime, as the faults stack drives it. */
export interface FaultEdge {
  url: string;
  port: number;
  /** Stops the edge, waits `downMs` at least, and starts it again on the same port and storage. */
  restart(downMs: number): Promise<void>;
  close(): Promise<void>;
}

export interface FaultEdgeOptions {
  /** The stack's temp folder; the edge keeps its storage under it. */
  dir: string;
  /** The scenario's scaled clock, where the runtime lets a test hand the edge one. */
  clock: Clock;
  commandTimeoutMs: number;
  /** Rate limits out of the way, so what refuses a hostile request is the validation itself. */
  noRateLimits: boolean;
  /** Where the clock cannot be scaled (workerd): the webhook retry schedule's waits times this. */
  retryScale?: number;
}

/** How a fault scenario starts its edge: `name` goes after each row's fault, e.g. " (Workers)". */
export interface EdgeRuntime {
  suffix: string;
  /**
   * Whether the edge runs on the scenario's clock (the Node edge takes it) or on real time (workerd
   * takes none from a test): what a row times the edge's retries with.
   */
  scenarioClock: boolean;
  start(o: FaultEdgeOptions): Promise<FaultEdge>;
}

const UNLIMITED = { perSecond: 1e6, burst: 1e6 };

/** The Node edge in this process, on the scenario's clock. */
export const nodeEdge: EdgeRuntime = {
  suffix: '',
  scenarioClock: true,
  async start(o) {
    const opts = { clock: o.clock, commandTimeoutMs: o.commandTimeoutMs, ...(o.noRateLimits ? { rateLimits: { perKey: UNLIMITED, perDevice: UNLIMITED } } : {}) };
    const data = join(o.dir, 'edge');
    let edge = await startEdge(data, opts);
    return {
      get url() {
        return edge.url;
      },
      get port() {
        return edge.port;
      },
      async restart(downMs) {
        const { port } = edge;
        await edge.close();
        await new Promise((r) => setTimeout(r, downMs));
        edge = await startEdge(data, { ...opts, port });
      },
      close: () => edge.close(),
    };
  },
};

/**
 * The Workers edge in local workerd. Its clock is real time (workerd takes none from a test): on a
 * scaled scenario the agent's heartbeat still notices a dead tunnel on the scaled clock, and the
 * edge learns of it when the agent redials. Its rate limits are the defaults, which the abuse
 * corpus sent one request at a time stays under.
 */
export const workersEdge: EdgeRuntime = {
  suffix: ' (Workers)',
  scenarioClock: false,
  async start(o) {
    const edge = await startWorkersEdge({ commandTimeoutMs: o.commandTimeoutMs }, o.retryScale ? { RETRY_SCALE: String(o.retryScale) } : {});
    const port = Number(new URL(edge.url).port);
    return {
      url: edge.url,
      port,
      async restart(downMs) {
        await edge.restart(() => new Promise((r) => setTimeout(r, downMs)));
      },
      close: () => edge.close(),
    };
  },
};
