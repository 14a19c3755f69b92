import { z } from 'zod';
import { gap } from '../../shared/tunnel/frames.ts';
import { amiState } from '../../shared/tunnel/frames.ts';
import type { DeviceRecord } from './store.ts';

/**
 * What the edge's own routes (devices, status, admin) accept and answer, once: the routes validate
 * and are typed by these, and /openapi.json is generated from them (shared/api/openapi.ts).
 */

// --- requests ---
export const tenantBody = z.object({ name: z.string().trim().min(1).max(200) });
export const deviceBody = z.object({
  tenant: z.string().min(1).max(64),
  url: z.url({ protocol: /^https?$/ }).max(2048).nullable().optional(),
  allowUnauthenticated: z.boolean().optional(),
  allowWebkey: z.boolean().optional(),
  types: z.array(z.string().min(1).max(64)).max(32).nullable().optional(),
});
export const replayBody = z.object({ from: z.number().int().nonnegative() });

export const macParam = z.string().meta({ description: '68:69:2e:03:8b:3e, 68-69-2E-03-8B-3E or 68692e038b3e' });
export const seqParam = z.object({
  seq: z.coerce.number({ error: 'expected a sequence number' }).int({ error: 'expected a sequence number' }).min(0, { error: 'expected a sequence number' }),
});
export const tenantParam = z.object({ id: z.string().meta({ description: 'tenant id (ten_...)' }) });
export const auditQuery = z.object({
  limit: z
    .preprocess((v) => Math.min(1000, Math.max(1, Number(v) || 100)), z.int().min(1).max(1000))
    .optional()
    .meta({ description: 'newest first; default 100, out of range is brought within 1 to 1000' }),
  mac: z.string().optional(),
  tenant: z.string().optional(),
});

// --- answers ---
/** Times in answers: ISO 8601 in UTC, as `Date.prototype.toISOString` writes them. */
export const isoTime = z.iso.datetime();
export function iso(ms: number): string;
export function iso(ms: number | null | undefined): string | null;
export function iso(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}

export const success = z.object({ status: z.literal('success') });

/** A device's settings as the API shows them: never its token hash or webhook secret. */
export const publicDevice = z
  .object({
    mac: z.string(),
    tenant: z.string(),
    url: z.string().nullable().meta({ description: "the operator's push URL; null: the box's own URL" }),
    allowUnauthenticated: z.boolean(),
    allowWebkey: z.boolean(),
    types: z.array(z.string()).nullable().meta({ description: 'event names pushed; null: all' }),
    createdAt: isoTime,
  })
  .meta({ id: 'Device' });
export const toPublicDevice = (d: DeviceRecord): z.input<typeof publicDevice> => ({
  mac: d.mac,
  tenant: d.tenant,
  url: d.url,
  allowUnauthenticated: d.allowUnauthenticated,
  allowWebkey: d.allowWebkey,
  types: d.types,
  createdAt: iso(d.createdAt),
});

/** `GET /devices` and `GET /admin/devices`. */
export const deviceList = z.array(publicDevice.extend({ online: z.boolean() }));
export const createdDevice = publicDevice.extend({ token: z.string().meta({ description: 'the tunnel token, shown once' }), webhookSecret: z.string() });

export const tenantAnswer = z.object({ id: z.string(), name: z.string(), createdAt: isoTime });
export const createdTenant = z.object({ id: z.string(), name: z.string(), keyId: z.string(), key: z.string().meta({ description: 'the key, shown once' }) });
export const issuedKey = z.object({ keyId: z.string(), key: z.string().meta({ description: 'the key, shown once' }) });
export const tenantKeys = z.array(z.object({ keyId: z.string(), createdAt: isoTime }));
export const rotatedToken = z.object({ mac: z.string(), token: z.string() });
export const rotatedSecret = z.object({ mac: z.string(), webhookSecret: z.string() });

export const auditEntries = z.array(
  z.object({
    at: isoTime,
    actor: z.string().meta({ description: '`admin`, `tenant:<id>`, `webkey`, `toolbar:<ext>` or `open`' }),
    keyId: z.string().nullable(),
    mac: z.string(),
    tenant: z.string(),
    action: z.string(),
    params: z.record(z.string(), z.string()),
    status: z.int(),
    requestId: z.string(),
  }),
);

/** What the receiver said to one POST (shared/delivery/attempt-outcome.ts), plus `extra`. */
const outcome = <E extends z.ZodRawShape>(extra: E) =>
  z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('delivered'), status: z.int(), ...extra }),
    z.object({
      kind: z.literal('retry'),
      status: z.int().optional(),
      message: z.string(),
      retryAfterMs: z.number().optional(),
      fault: z.enum(['status', 'timeout', 'unreachable']),
      ...extra,
    }),
    z.object({ kind: z.literal('rejected'), status: z.int(), message: z.string(), ...extra }),
    z.object({ kind: z.literal('stop'), status: z.int(), message: z.string(), ...extra }),
  ]);
export const attemptOutcome = outcome({});
export const testEventOutcome = outcome({ url: z.string() });
export const replayAnswer = z.object({ status: z.literal('success'), from: z.int().meta({ description: 'the first sequence number that will be sent again' }) });
export const deadLetters = z.array(
  z.object({
    epoch: z.string(),
    seq: z.int(),
    type: z.string(),
    body: z.string().meta({ description: 'the JSON text as it was signed and POSTed' }),
    id: z.string().optional(),
    reason: z.string(),
    at: isoTime,
  }),
);

export const deviceStatus = z
  .object({
    mac: z.string(),
    tenant: z.string(),
    online: z.boolean(),
    since: isoTime.nullable(),
    lastDisconnect: z.object({ at: isoTime, code: z.int(), reason: z.string() }).nullable(),
    agentVersion: z.string().nullable(),
    agentRuntime: z.string().nullable().meta({ description: "the agent's Node and build, e.g. `node v26.12.1 (single executable) linux-x64`" }),
    asteriskVersion: z.string().nullable(),
    asteriskSupport: z
      .object({ version: z.string(), support: z.enum(['supported', 'limited', 'unsupported', 'untested', 'unknown']), detail: z.string() })
      .nullable()
      .meta({ description: 'what works on that Asterisk (supported: 13.8 to 22); detail says what is missing and what to do' }),
    timeZone: z.string().nullable(),
    driver: z.enum(['sip', 'pjsip']).nullable(),
    ami: amiState.nullable().meta({ description: 'the AMI link as the agent last reported it' }),
    eventsWaitingOnBox: z.int().nullable(),
    eventsDroppedOnBox: z.int().nullable(),
    eventsWaitingOnEdge: z.int(),
    deadLetters: z.int(),
    gaps: z.array(gap).meta({ description: "when the agent could not read AMI (epoch ms), and what it recovered from the box's own records" }),
    replacements: z.int(),
    conflicts: z.int(),
    lastConflictAt: isoTime.nullable(),
    delivery: z
      .object({
        url: z.string(),
        state: z.enum(['idle', 'sending', 'waiting', 'stopped', 'closed']),
        stopped: z.string().nullable().meta({ description: 'why delivery stopped (410 Gone, a redirect) and what to fix' }),
        lastDeliveredAt: isoTime.nullable(),
        lastError: z.object({ at: isoTime, seq: z.int().nullable(), status: z.int().nullable(), message: z.string() }).nullable(),
        attempts: z.int().meta({ description: 'failed attempts of the event at the head of the queue' }),
        nextAttemptAt: isoTime.nullable().meta({ description: 'when the head is tried again, while waiting' }),
      })
      .nullable(),
  })
  .meta({ id: 'DeviceStatus' });

export const edgeHealth = z.object({ status: z.literal('ok'), tunnels: z.int() });
