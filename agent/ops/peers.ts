import type { AmiMessage } from '../ami/message.ts';
import type { AmiRunner } from '../ami/types.ts';
import type { ChannelDriver } from './context.ts';

/** One row of extension-status, in the shape and wording of chan_sip's `SIPpeers`. */
export interface PeerRow {
  Exten: string;
  Type: 'SIP' | 'PJSIP';
  /** `-none-` when the phone is not registered, as chan_sip says it. */
  IPAddr: string;
  /** `OK (42 ms)`, `UNREACHABLE`, `LAGGED (...)`, `Unmonitored` or `UNKNOWN`. */
  Status: string;
}

export const NO_ADDRESS = '-none-';

/**
 * Every SIP peer and PJSIP endpoint of the loaded drivers, with its registration address and qualify
 * status, in the order of `drivers`.
 */
export async function listPeers(ami: AmiRunner, drivers: readonly ChannelDriver[]): Promise<PeerRow[]> {
  const rows: PeerRow[] = [];
  for (const d of drivers) rows.push(...(d === 'sip' ? await sipPeers(ami) : await pjsipEndpoints(ami)));
  return rows;
}

/** True when the row says the phone has no registration Asterisk can reach. */
export function isUnregistered(row: PeerRow): boolean {
  return row.IPAddr === NO_ADDRESS || /^(UNKNOWN|UNREACHABLE)/.test(row.Status);
}

async function sipPeers(ami: AmiRunner): Promise<PeerRow[]> {
  const { events } = await ami.action({ Action: 'SIPpeers' });
  return events
    .filter((e) => e.event === 'PeerEntry')
    .map((e) => ({
      Exten: e.get('ObjectName') ?? '',
      Type: 'SIP' as const,
      IPAddr: e.get('IPaddress') || NO_ADDRESS,
      Status: e.get('Status') ?? 'UNKNOWN',
    }));
}

/**
 * PJSIP has no one list with address and status: endpoints come from PJSIPShowEndpoints, and each
 * endpoint's registered contacts (address, qualify status, round trip) from PJSIPShowContacts.
 */
async function pjsipEndpoints(ami: AmiRunner): Promise<PeerRow[]> {
  const endpoints = await ami.action({ Action: 'PJSIPShowEndpoints' });
  const contacts = await ami.action({ Action: 'PJSIPShowContacts' });
  const byEndpoint = new Map<string, AmiMessage[]>();
  for (const c of contacts.events) {
    if (c.event !== 'ContactList') continue;
    const name = c.get('Endpoint') ?? '';
    byEndpoint.set(name, [...(byEndpoint.get(name) ?? []), c]);
  }
  return endpoints.events
    .filter((e) => e.event === 'EndpointList')
    .map((e) => {
      const exten = e.get('ObjectName') ?? '';
      const best = bestContact(byEndpoint.get(exten) ?? []);
      return {
        Exten: exten,
        Type: 'PJSIP' as const,
        IPAddr: best ? contactHost(best) : NO_ADDRESS,
        Status: best ? contactStatus(best) : 'UNKNOWN',
      };
    });
}

const RANK: Record<string, number> = { Reachable: 0, NonQualified: 1, Unknown: 2, Unreachable: 3 };

function bestContact(contacts: AmiMessage[]): AmiMessage | undefined {
  return [...contacts].sort((a, b) => (RANK[a.get('Status') ?? ''] ?? 4) - (RANK[b.get('Status') ?? ''] ?? 4))[0];
}

/**
 * The host of the contact URI (`sip:800@192.168.12.4:5070` -> `192.168.12.4`): with rewrite_contact
 * it is the address packets come from, which is what chan_sip's IPaddress shows.
 */
function contactHost(contact: AmiMessage): string {
  const uri = contact.get('Uri') ?? '';
  const m = /^sips?:(?:[^@;]*@)?(\[[^\]]+\]|[^:;>]+)/.exec(uri);
  return m?.[1] || contact.get('ViaAddr') || NO_ADDRESS;
}

/** chan_sip's wording for the same facts, so both drivers read alike. */
function contactStatus(contact: AmiMessage): string {
  switch (contact.get('Status')) {
    case 'Reachable': {
      // chan_sip rounds to whole ms and never shows 0 (a loopback peer reads `OK (1 ms)`).
      const usec = Number(contact.get('RoundtripUsec') ?? '0');
      return `OK (${Math.max(1, Math.round(usec / 1000))} ms)`;
    }
    case 'Unreachable':
      return 'UNREACHABLE';
    case 'NonQualified':
      return 'Unmonitored';
    default:
      return 'UNKNOWN';
  }
}
