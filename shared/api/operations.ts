import { z } from 'zod';
import { extension, pauseState, phoneNumber, queueName } from './params.ts';

/**
 * The documented operations of coocenter-api, once, for both the agent's LAN port and the edge.
 * Each names its method, path (after `/coocenter-api`), the zod schema of its parameters and whether
 * it acts on calls (those take an Idempotency-Key and are written to the audit log).
 * The device side (agent/ops/<name>.ts) turns the validated parameters into AMI actions.
 */
export const operations = {
  'current-calls': { method: 'POST', path: '/extensions/current-calls', params: z.object({}), actsOnCalls: false },
  'extension-status': { method: 'GET', path: '/extensions/extension-status', params: z.object({}), actsOnCalls: false },
  'extension-hints-status': {
    method: 'GET',
    path: '/extensions/extension-hints-status',
    params: z.object({}),
    actsOnCalls: false,
  },
  'queue-info': { method: 'GET', path: '/queues/queue-info', params: z.object({}), actsOnCalls: false },
  'agent-pause': {
    method: 'POST',
    path: '/queues/agent-pause',
    params: z.object({ queue: queueName, member: extension, state: pauseState }),
    actsOnCalls: true,
  },
  'agent-login': {
    method: 'POST',
    path: '/queues/agent-login',
    params: z.object({ extension, queue: queueName }),
    actsOnCalls: true,
  },
  'agent-logout': {
    method: 'POST',
    path: '/queues/agent-logout',
    params: z.object({ extension, queue: queueName }),
    actsOnCalls: true,
  },
  'click-number': {
    method: 'POST',
    path: '/extensions/click-number',
    params: z.object({ src: extension, dst: phoneNumber }),
    actsOnCalls: true,
  },
  hangup: { method: 'POST', path: '/extensions/hangup', params: z.object({ extension }), actsOnCalls: true },
  transfer: {
    method: 'POST',
    path: '/extensions/transfer',
    params: z.object({ src: extension, dst: phoneNumber }),
    actsOnCalls: true,
  },
  'exten-spy': {
    method: 'POST',
    path: '/extensions/extenSpy',
    params: z.object({ src: extension, dst: extension }),
    actsOnCalls: true,
  },
  'blacklist-index': { method: 'GET', path: '/blacklist/index', params: z.object({}), actsOnCalls: false },
  'blacklist-create': {
    method: 'POST',
    path: '/blacklist/create',
    params: z.object({ number: phoneNumber }),
    actsOnCalls: true,
  },
  'blacklist-delete': {
    method: 'DELETE',
    path: '/blacklist/delete',
    params: z.object({ number: phoneNumber }),
    actsOnCalls: true,
  },
} as const satisfies Record<string, Operation>;

export interface Operation {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  params: z.ZodObject<Record<string, z.ZodType<string, string>>>;
  actsOnCalls: boolean;
}

export type OperationName = keyof typeof operations;
export type OperationParams<N extends OperationName> = z.output<(typeof operations)[N]['params']>;
export const operationNames = Object.keys(operations) as OperationName[];
