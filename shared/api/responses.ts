import { z } from 'zod';
import type { OperationName } from './operations.ts';

/**
 * The documented success bodies, once, for /openapi.json and for tests that hold the device to them.
 * Values are strings as in the document; `message` is the document's text where it gives one.
 */
const success = (message: string) => z.object({ status: z.literal('success'), message: z.literal(message) });

const channel = z.object({
  calleridname: z.string(),
  calleridnum: z.string(),
  channel: z.string(),
  channelstate: z.string(),
  channelstatedesc: z.string(),
  connectedlinename: z.string(),
  connectedlinenum: z.string(),
  duration: z.string().meta({ description: 'HH:MM:SS' }),
});

export const errorBody = z
  .object({ status: z.literal('error'), message: z.string().meta({ description: 'what is wrong, in words a person can act on' }) })
  .meta({ id: 'Error' });

export const responses = {
  'current-calls': success('Channels will follow').extend({ data: z.array(channel) }),
  'extension-status': success('Peer status list will follow').extend({
    data: z.array(z.object({ Exten: z.string(), Type: z.string(), IPAddr: z.string(), Status: z.string() })),
  }),
  'extension-hints-status': z.array(
    z.object({
      agentName: z.string(),
      extension: z.string(),
      extenType: z.string(),
      status: z.string().meta({ description: '0 idle, 1 in use, 2 busy, 4 unavailable, 8 ringing, 16 on hold (sums combine), -1 unknown' }),
    }),
  ),
  'queue-info': success('Queue status will follow').extend({
    data: z.record(z.string(), z.array(z.object({ name: z.string(), paused: z.string(), penalty: z.string() }))).meta({
      description: 'members per queue; name is the member interface, e.g. SIP/876',
    }),
  }),
  'agent-pause': z.object({
    status: z.literal('success'),
    message: z.enum(['Interface paused successfully', 'Interface unpaused successfully']),
  }),
  'agent-login': success('login extension success'),
  'agent-logout': success('logout extension success'),
  'click-number': success('Originate successfully queued'),
  hangup: success('hangup extension success'),
  transfer: success('tansfer extension success'),
  'exten-spy': success('spy extension success'),
  'blacklist-index': z.object({ status: z.literal('success'), data: z.array(z.string()) }),
  'blacklist-create': success('Updated database successfully'),
  'blacklist-delete': success('Key deleted successfully'),
} as const satisfies Record<OperationName, z.ZodType>;

/** The documented success body of an operation: what a Device answers (shared/device.ts). */
export type OperationBody<N extends OperationName> = z.output<(typeof responses)[N]>;
