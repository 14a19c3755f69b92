import type { AmiRunner } from '../ami/types.ts';

/** One member of one queue, as QueueStatus lists it (QueueMember event). */
export interface QueueMember {
  queue: string;
  /** The interface Asterisk dials and the one QueuePause/QueueRemove want: `SIP/808`, `Local/808@agents/n`. */
  location: string;
  stateInterface: string;
  /** `static` (queues.conf), `dynamic` (QueueAdd) or `realtime`. */
  membership: string;
  paused: string;
  penalty: string;
}

export interface QueueState {
  /** False when Asterisk knows no such queue (QueueStatus then answers an empty list, not an error). */
  exists: boolean;
  members: QueueMember[];
}

/** Every queue, or one queue, with its members in Asterisk's order. */
export async function queueStatus(ami: AmiRunner, queue?: string): Promise<Map<string, QueueMember[]>> {
  const { events } = await ami.action(queue === undefined ? { Action: 'QueueStatus' } : { Action: 'QueueStatus', Queue: queue });
  const queues = new Map<string, QueueMember[]>();
  for (const e of events) {
    const name = e.get('Queue') ?? '';
    if (e.event === 'QueueParams' && !queues.has(name)) queues.set(name, []);
    if (e.event !== 'QueueMember') continue;
    const list = queues.get(name) ?? [];
    list.push({
      queue: name,
      location: e.get('Location') ?? '',
      stateInterface: e.get('StateInterface') ?? '',
      membership: e.get('Membership') ?? '',
      paused: e.get('Paused') ?? '',
      penalty: e.get('Penalty') ?? '',
    });
    queues.set(name, list);
  }
  return queues;
}

export async function queueState(ami: AmiRunner, queue: string): Promise<QueueState> {
  const queues = await queueStatus(ami, queue);
  const members = queues.get(queue);
  return { exists: members !== undefined, members: members ?? [] };
}

/**
 * The members that are this extension's `phone` (agent/ops/phones.ts), whatever interface the queue
 * uses for it: the phone itself, `Local/808@agents/n`, or any interface whose StateInterface is the
 * phone. Only the phone's own technology counts: on a box running both drivers `SIP/808` is not
 * `PJSIP/808`. Technologies are case-insensitive in Asterisk (`sip/808` in queues.conf).
 */
export function membersFor(members: readonly QueueMember[], extension: string, phone: string): QueueMember[] {
  const device = phone.toLowerCase();
  return members.filter(
    (m) => m.location.toLowerCase() === device || m.stateInterface.toLowerCase() === device || localExtension(m.location) === extension,
  );
}

/** `Local/808@agents/n` -> `808`; anything else -> undefined. */
function localExtension(iface: string): string | undefined {
  return /^Local\/([^@/]+)@/i.exec(iface)?.[1];
}
