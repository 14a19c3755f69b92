/** The call center the fixtures were recorded on (sip.conf, queues.conf, extensions.conf in the README). */
export type Driver = 'sip' | 'pjsip';

export interface PhoneBehaviour {
  registered: boolean;
  /** Simulated ms of ringing before the phone answers; null rings until the caller gives up. */
  answerAfterMs: number | null;
  /** Answers `486 Busy Here` to every INVITE. */
  busy: boolean;
  /** Simulated ms after answering when the phone hangs up by itself; null keeps talking. */
  hangupAfterMs: number | null;
}

export interface PhoneConfig extends PhoneBehaviour {
  ext: string;
  name: string;
}

const phone = (ext: string, name: string, b: Partial<PhoneBehaviour>): PhoneConfig => ({
  ext,
  name,
  registered: true,
  answerAfterMs: null,
  busy: false,
  hangupAfterMs: null,
  ...b,
});

/** The fixtures README's phone table. */
export function defaultPhones(): PhoneConfig[] {
  return [
    phone('800', 'Agent 800', { answerAfterMs: 1500 }),
    phone('801', 'Agent 801', { answerAfterMs: 3000 }),
    phone('802', 'Bob 802', { answerAfterMs: 1000 }),
    phone('803', 'Busy 803', { busy: true }),
    phone('804', 'NoAnswer 804', {}),
    phone('805', 'Supervisor 805', { answerAfterMs: 500 }),
    phone('806', 'Carol 806', { answerAfterMs: 1000 }),
    phone('807', 'Dave 807', { registered: false, answerAfterMs: 1000 }),
    phone('808', 'Eve 808', { registered: false, answerAfterMs: 1000 }),
    phone('809', 'Frank 809', { registered: false, answerAfterMs: 1000 }),
  ];
}

/** ExtensionStateList walks Asterisk's hint hash, not sorted; this is the order the fixtures show. */
export const HINT_ORDER = ['809', '808', '805', '804', '807', '806', '801', '800', '803', '802'];

export interface MemberConfig {
  /** `SIP/800`, or `Local/802@agents/n`; `{tech}` is replaced by the driver's technology. */
  location: string;
  name: string;
  stateInterface: string;
  penalty: number;
}

export interface QueueConfig {
  name: string;
  strategy: 'ringall' | 'rrmemory' | 'linear';
  /** Member ring timeout, seconds. */
  timeout: number;
  /** Seconds between rounds. */
  retry: number;
  /** Members in the order QueueStatus lists them (Asterisk's container order, as recorded). */
  members: MemberConfig[];
  /** queues.conf `joinempty`: false refuses a caller when no member could take the call (37). Default true. */
  joinEmpty?: boolean;
}

export function defaultQueues(): QueueConfig[] {
  return [
    {
      name: '630',
      strategy: 'ringall',
      timeout: 10,
      retry: 2,
      members: [
        { location: '{tech}/801', name: 'Agent 801', stateInterface: '{tech}/801', penalty: 0 },
        { location: '{tech}/800', name: 'Agent 800', stateInterface: '{tech}/800', penalty: 0 },
      ],
    },
    {
      name: '631',
      strategy: 'rrmemory',
      timeout: 10,
      retry: 2,
      members: [
        { location: 'Local/802@agents/n', name: 'Agent 802', stateInterface: '{tech}/802', penalty: 0 },
        { location: '{tech}/806', name: 'Agent 806', stateInterface: '{tech}/806', penalty: 5 },
      ],
    },
    // Added for recordings 33-40 (fixtures README): no members; joinempty = no and yes.
    { name: '632', strategy: 'ringall', timeout: 15, retry: 5, members: [], joinEmpty: false },
    { name: '633', strategy: 'ringall', timeout: 15, retry: 5, members: [], joinEmpty: true },
  ];
}

/** Queues 630 and 631 only: the configuration recordings 01-32 were made with. */
export function queuesBefore33(): QueueConfig[] {
  return defaultQueues().filter((q) => q.name === '630' || q.name === '631');
}

/** sip.conf `[trunk]` (context from-trunk, no hint), added for recordings 33-40. */
export const TRUNK = 'trunk';
export const FROM_TRUNK = 'from-trunk';

/** The context hints live in; `from-internal` (api.conf's default `[ami] context`, docs/api.md "api.conf") is accepted as an alias of it. */
export const INTERNAL = 'internal';
export const VERSION = '20.20.1';

/** `20.20.1` -> [20, 20, 1]; missing parts are 0. */
export function versionParts(v: string): [number, number, number] {
  const [a = 0, b = 0, c = 0] = v.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  return [a, b, c];
}

/** Whether version v is older than major.minor. */
export function olderThan(v: string, major: number, minor: number): boolean {
  const [a, b] = versionParts(v);
  return a < major || (a === major && b < minor);
}
