import type { Hono } from 'hono';
import { z } from 'zod';
import { serve } from '../../../shared/api/route.ts';
import { normalizeMac } from '../../../shared/auth/mac.ts';
import { ApiError } from '../../../shared/errors.ts';
import { TunnelSession, type EdgeSocket, type TunnelSessionOptions } from '../tunnel-session.ts';
import type { EdgeContext } from './context.ts';

const agentTunnel = {
  method: 'get',
  path: '/agent/tunnel',
  operationId: 'agentTunnel',
  summary: 'The WebSocket the agent dials (Authorization: Bearer <device token>, X-Device-Mac)',
  tags: ['service'],
  headers: [{ name: 'X-Device-Mac', required: true, schema: z.string() }],
  responses: { 101: { description: 'switching to the tunnel protocol' } },
  errors: { 400: 'not a WebSocket upgrade, or X-Device-Mac is not a MAC', 401: 'device token refused for this MAC' },
  security: [{ deviceToken: [] }],
} as const;

export interface TunnelWiring {
  /** The tunnel upgrade's check: the MAC whose token this is, or ApiError 400/401. */
  authorizeTunnel(headers: Headers): Promise<string>;
  /** Binds an accepted WebSocket to a new session; the runtime feeds it frames and the close. */
  openTunnel(mac: string, socket: EdgeSocket, runtime?: Pick<TunnelSessionOptions, 'watchHeartbeat' | 'restored'>): TunnelSession;
}

/**
 * The agent's tunnel: the upgrade's check, and each session wired to the hub, the metrics, the
 * toolbar feeds and delivery. The runtime (Node's `ws`, a Durable Object's hibernating WebSocket)
 * accepts the socket; a plain GET of `/agent/tunnel` is told to upgrade.
 */
export function wireTunnels(app: Hono, e: EdgeContext, o: { heartbeatMs: number }): TunnelWiring {
  const { hub, metrics, log, feeds } = e;
  serve(app, agentTunnel, () => {
    throw new ApiError('BAD_PARAMETER', 'this is the agent tunnel: connect with a WebSocket upgrade', 'Upgrade');
  });
  return {
    async authorizeTunnel(headers) {
      const raw = headers.get('x-device-mac') ?? undefined;
      const mac = raw === undefined ? undefined : normalizeMac(raw);
      if (raw !== undefined && !mac) throw new ApiError('BAD_PARAMETER', `X-Device-Mac: ${raw} is not a MAC address`, 'X-Device-Mac');
      const device = (await e.auth.forTunnel(headers.get('authorization') ?? undefined, mac)).mac;
      await e.cluster.claim(device);
      return device;
    },
    openTunnel(mac, socket, runtime = {}) {
      return new TunnelSession({
        ...runtime,
        mac,
        socket,
        store: e.store,
        clock: e.clock,
        heartbeatMs: o.heartbeatMs,
        log,
        onReady: (s) => {
          hub.attach(s);
          metrics.inc('coocenter_edge_tunnel_connects_total');
          log({ msg: 'tunnel online', mac, agentVersion: s.facts?.agentVersion, asteriskVersion: s.facts?.asteriskVersion });
          e.cluster.attached(mac);
          void e.deliveries?.kick(mac);
        },
        onFacts: (s) => hub.updateFacts(s),
        onEvents: (m, events) => feeds.open(m)?.publishDocumented(events),
        onLive: (m, events) => feeds.of(m).publish(events),
        onCommitted: (m, count) => {
          metrics.inc('coocenter_edge_events_committed_total', {}, count);
          e.cluster.committed(m);
          void e.deliveries?.kick(m);
        },
        onClosed: (s, code, reason) => {
          metrics.inc('coocenter_edge_tunnel_closes_total', { code: String(code) });
          hub.detach(s, code, reason);
          if (!hub.session(s.mac)) e.cluster.detached(s.mac);
        },
      });
    },
  };
}
