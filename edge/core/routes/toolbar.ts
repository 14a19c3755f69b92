import type { Hono } from 'hono';
import { createToolbarRoutes } from '../../../shared/toolbar/routes.ts';
import { toolbarKeyOf } from '../device-keys.ts';
import { OWNER, ownerErrors, type EdgeContext } from './context.ts';

/** The agent toolbar per device (`/devices/{mac}/toolbar`, its stream and tokens: docs/toolbar.md). */
export function serveToolbar(app: Hono, e: EdgeContext): void {
  app.route(
    '/devices/:mac',
    createToolbarRoutes({
      mac: e.macOf,
      key: async (c) => toolbarKeyOf(await e.device(e.macOf(c))),
      feed: async (c) => e.feeds.of((await e.device(e.macOf(c))).mac),
      now: () => e.clock.now(),
      tokenPath: '/toolbar/token',
      async authorizeIssue(c) {
        await e.forOwner(c, 'toolbar tokens');
      },
      log: e.log,
      requestIdOf: e.requestIdOf,
      docs: { tokenSecurity: OWNER, tokenErrors: ownerErrors('issue toolbar tokens'), streamErrors: { 404: 'no such device' } },
    }),
  );
}
