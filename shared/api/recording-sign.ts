import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { encodeRecordingPath, signRecording, signRecordingBody } from '../auth/recording-url.ts';
import { serve, type Security } from './route.ts';

export const signedRecording = z.object({
  status: z.literal('success'),
  path: z.string().meta({ description: 'the link, from the root of this server' }),
  url: z.string().meta({ description: 'the same link, absolute' }),
  expiresAt: z.iso.datetime(),
});

export interface RecordingSignOptions {
  /** Where the route is, as Hono spells it. */
  path: string;
  /** Throws 401/403 unless the caller may sign links for this device; else its key, MAC and API base path. */
  authorize(c: Context): Promise<{ key: Uint8Array; mac: string; apiBase: string }>;
  now(): number;
  docs: { security: Security; errors: Record<number, string> };
}

/**
 * `POST .../recordings/sign`, once for the agent and the edge: a link to one recording that carries its
 * own proof (`?exp=&sig=`, shared/auth/recording-url.ts), for an `<audio>` element, which cannot send
 * Authorization.
 */
export function serveRecordingSign(app: Hono, o: RecordingSignOptions): void {
  const spec = {
    method: 'post',
    path: o.path,
    operationId: 'signRecording',
    summary: 'A link to one recording that carries its own proof (?exp=&sig=), for an <audio> element, which cannot send Authorization',
    tags: ['coocenter-api'],
    body: { schema: signRecordingBody, encoding: 'json' },
    responses: { 200: signedRecording },
    errors: { 400: 'the body is not JSON, or path is not a file path below the recordings folder', ...o.docs.errors },
    security: o.docs.security,
  } as const;
  serve(app, spec, async (c, input) => {
    const { key, mac, apiBase } = await o.authorize(c);
    const { path, ttl } = await input.body();
    const signed = await signRecording(key, mac, path, o.now(), ttl);
    const link = `${apiBase}/monitor/${encodeRecordingPath(signed.relPath)}?${signed.query}`;
    return { status: 200, body: { status: 'success', path: link, url: new URL(link, c.req.url).href, expiresAt: signed.expiresAt } };
  });
}
