import type { AmiMessage } from '../ami/message.ts';

/** One queue member as far as call routing cares. */
export interface MemberState {
  /** Device state (1 not in use, 2 in use, 4 invalid, 5 unavailable, 6 ringing, ...). */
  status: string;
  paused: boolean;
  /** The device whose state the queue watches, when it is not the interface (`Local/802@agents/n` -> `SIP/802`). */
  stateInterface?: string;
}

/** queue -> interface -> member. A queue absent from the table is unknown, not empty. */
export type QueueMembers = Record<string, Record<string, MemberState>>;

const MAX_QUEUES = 1000;
const MAX_MEMBERS = 1000;
/** AST_DEVICE_INVALID and AST_DEVICE_UNAVAILABLE: nobody is there to take a call. */
const ABSENT = new Set(['4', '5']);

/**
 * The queue interface of the member whose phone is `device` (`SIP/800`): a member named by it, or one
 * whose state interface it is. Undefined when the phone is no queue member's.
 */
export function memberInterfaceOf(table: QueueMembers, device: string): string | undefined {
  let viaState: string | undefined;
  for (const members of Object.values(table)) {
    if (members[device]) return device;
    if (viaState === undefined) for (const [iface, m] of Object.entries(members)) if (m.stateInterface === device) viaState = iface;
  }
  return viaState;
}

/** How many members are there (logged in, device present) and how many of those could take a call. */
export function countMembers(members: Record<string, MemberState>): { loggedIn: number; free: number } {
  let loggedIn = 0;
  let free = 0;
  for (const m of Object.values(members)) {
    if (ABSENT.has(m.status)) continue;
    loggedIn++;
    if (!m.paused && (m.status === '1' || m.status === '0')) free++;
  }
  return { loggedIn, free };
}

/** Applies a queue-membership event (async QueueMember* events, or QueueStatus list items). */
export function applyMemberEvent(table: QueueMembers, ami: AmiMessage): void {
  const queue = ami.get('Queue');
  if (queue === undefined) return;
  const event = ami.event;
  if (event === 'QueueParams') {
    if (!table[queue] && Object.keys(table).length < MAX_QUEUES) table[queue] = {};
    return;
  }
  // Async events say Interface, QueueStatus items say Location (fixtures README, Queues).
  const iface = ami.get('Interface') ?? ami.get('Location');
  if (iface === undefined) return;
  if (event === 'QueueMemberRemoved') {
    if (table[queue]) delete table[queue][iface];
    return;
  }
  let members = table[queue];
  if (!members) {
    if (Object.keys(table).length >= MAX_QUEUES) return;
    members = table[queue] = {};
  }
  const known = members[iface];
  if (!known && Object.keys(members).length >= MAX_MEMBERS) return;
  const stateInterface = ami.get('StateInterface') ?? known?.stateInterface;
  members[iface] = {
    status: ami.get('Status') ?? known?.status ?? '0',
    paused: ami.has('Paused') ? ami.get('Paused') === '1' : (known?.paused ?? false),
    ...(stateInterface !== undefined && stateInterface !== iface ? { stateInterface } : {}),
  };
}

export const MEMBER_EVENTS = ['QueueMemberAdded', 'QueueMemberRemoved', 'QueueMemberStatus', 'QueueMemberPause', 'QueueMember', 'QueueParams'] as const;
