import { z } from 'zod';

/**
 * What the toolbar needs besides the documented events: who rings (for the screen pop), pauses
 * with their reason, queue log in and out, and wrap-up. They are live state for an open page, not
 * records: they are not spooled, not delivered to the customer's webhook, and cross the tunnel in
 * `live` frames (shared/tunnel/frames.ts).
 */
const ext = z.string().min(1).max(64);
const text = z.string().max(256);

export const RingEvent = z.object({
  type: z.literal('ring'),
  ext,
  /** The call's Linkedid, as `uniqueid` in the documented events. */
  callId: text,
  caller: text,
  /** What the caller dialed (the queue number, a DID or the extension). */
  called: text,
  /** "" when the call did not come through a queue. */
  queue: text,
});

export const PauseEvent = z.object({
  type: z.literal('pause'),
  ext,
  interface: text,
  queue: text,
  paused: z.boolean(),
  reason: text,
});

export const MemberEvent = z.object({
  type: z.literal('member'),
  ext,
  interface: text,
  queue: text,
  loggedIn: z.boolean(),
});

export const WrapupEvent = z.object({
  type: z.literal('wrapup'),
  ext,
  interface: text,
  callId: text,
  state: z.enum(['begin', 'end']),
  /**
   * Time left when the event was written. Relative, so neither the edge nor the browser needs the
   * box's clock: each turns it into its own deadline on receipt.
   */
  remainingMs: z.number().int().nonnegative(),
});

export const ToolbarEvent = z.discriminatedUnion('type', [RingEvent, PauseEvent, MemberEvent, WrapupEvent]);
export type ToolbarEvent = z.infer<typeof ToolbarEvent>;
export type WrapupEvent = z.infer<typeof WrapupEvent>;

/**
 * The extension a channel or queue interface belongs to: `SIP/800-00000015`, `PJSIP/800`,
 * `Local/802@agents-00000001;1` and `Local/802@agents/n` all give 800 or 802. Trunk channels give
 * their peer name, which matches no extension.
 */
export function extensionOf(channel: string): string {
  const m = /^[A-Za-z0-9_]+\/([^-@;/]+)/.exec(channel);
  return m?.[1] ?? '';
}

/** The extensions a documented event concerns, so a toolbar sees its own calls only. */
export function extensionsOfDocumented(event: Record<string, unknown>): string[] {
  const s = (k: string) => (typeof event[k] === 'string' ? (event[k] as string) : '');
  switch (event.event) {
    case 'extensionstatus':
      return [s('exten')];
    case 'dialbegein':
    case 'dialend':
      return [extensionOf(s('channel')), extensionOf(s('destchannel'))].filter(Boolean);
    case 'hangup':
      return [extensionOf(s('channel'))].filter(Boolean);
    case 'cc_cdr':
      return [s('agentCode')].filter(Boolean);
    default:
      return [];
  }
}
