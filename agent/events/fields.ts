import type { AmiMessage } from '../ami/message.ts';

/**
 * A header as a document value: "" when absent or when Asterisk writes `<unknown>` (its text for an
 * empty caller ID), so a CRM never shows that placeholder as a number. The last value wins, because a
 * dialplan UserEvent header repeats (and overrides) the channel snapshot's (`CallerIDNum` twice).
 */
export function field(ami: AmiMessage, key: string): string {
  const v = ami.last(key);
  return v === undefined || v === '<unknown>' ? '' : v;
}

/** The call id of the documents: the Linkedid, or for an originated leg (Dest* only) the DestLinkedid. */
export function callId(ami: AmiMessage): string {
  return ami.get('Linkedid') ?? ami.get('DestLinkedid') ?? ami.get('Uniqueid') ?? '';
}
