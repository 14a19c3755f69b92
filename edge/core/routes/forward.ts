import type { Context, Hono, Next } from 'hono';
import type { Cluster } from '../cluster.ts';

/**
 * Device-scoped requests reach the device's home instance, whichever instance the load balancer
 * chose: the home holds the tunnel and the delivery, so it answers as a single edge would. Runs
 * before authentication: the home authenticates, rate-limits and audits, once. `/internal/...` are
 * the calls instances make on each other.
 */
export function serveForwarding(app: Hono, o: { cluster: Cluster; macOf(c: Context): string }): void {
  const forward = async (c: Context, next: Next) => {
    const answer = await o.cluster.forward(o.macOf(c), c.req.raw);
    if (answer) return answer;
    await next();
  };
  for (const path of ['/devices/:mac/*', '/admin/devices/:mac', '/admin/devices/:mac/*']) app.use(path, forward);
  app.all('/internal/*', async (c) => (await o.cluster.internal(c.req.raw, c.req.path)) ?? c.notFound());
}
