import type { AmiRunner } from '../ami/types.ts';

/** One dialplan hint and its device state (ExtensionStateList). */
export interface Hint {
  exten: string;
  context: string;
  /** The hint's devices, e.g. `SIP/800` or `PJSIP/800&Custom:dnd800`. */
  devices: string;
  /** 0 idle, 1 in use, 2 busy, 4 unavailable, 8 ringing, 16 on hold, sums of these; -1 unknown. */
  status: string;
  statusText: string;
}

export const HINT_IDLE = '0';
export const HINT_UNAVAILABLE = '4';

/** Every hint Asterisk has, in every context, in Asterisk's (hash) order. */
export async function listHints(ami: AmiRunner): Promise<Hint[]> {
  const { events } = await ami.action({ Action: 'ExtensionStateList' });
  return events
    .filter((e) => e.event === 'ExtensionStatus')
    .map((e) => ({
      exten: e.get('Exten') ?? '',
      context: e.get('Context') ?? '',
      devices: e.get('Hint') ?? '',
      status: e.get('Status') ?? '-1',
      statusText: e.get('StatusText') ?? '',
    }));
}

/** The hint of `exten`, preferring the one in `context` when the extension has hints in several. */
export function hintOf(hints: readonly Hint[], exten: string, context: string): Hint | undefined {
  const mine = hints.filter((h) => h.exten === exten);
  return mine.find((h) => h.context === context) ?? mine[0];
}

/** The technology of the hint's first device: `SIP/800&Custom:x` -> `SIP`, `DAHDI/1` -> `DAHDI`. */
export function hintTechnology(devices: string): string {
  const first = devices.split('&')[0] ?? '';
  const slash = first.indexOf('/');
  const colon = first.indexOf(':');
  if (slash > 0) return first.slice(0, slash);
  return colon > 0 ? first.slice(0, colon) : first;
}
