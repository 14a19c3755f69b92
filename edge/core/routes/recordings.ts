import type { Hono } from 'hono';
import { serveRecordingSign } from '../../../shared/api/recording-sign.ts';
import { recordingKeyOf } from '../device-keys.ts';
import { OWNER, ownerErrors, type EdgeContext } from './context.ts';

/**
 * `POST /devices/{mac}/recordings/sign`: links for `<audio>` in a CRM page, which cannot send
 * Authorization, issued to the device's own tenant. The links themselves are checked where every
 * device request is authenticated (shared/api/authenticate.ts).
 */
export function serveRecordingLinks(app: Hono, e: EdgeContext): void {
  serveRecordingSign(app, {
    path: '/devices/:mac/recordings/sign',
    async authorize(c) {
      const { device } = await e.forOwner(c, 'recording links');
      return { key: await recordingKeyOf(device), mac: device.mac, apiBase: `/devices/${device.mac}/coocenter-api` };
    },
    now: () => e.clock.now(),
    docs: { security: OWNER, errors: ownerErrors('sign recording links') },
  });
}
