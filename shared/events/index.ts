import { z } from 'zod';
import { CcCdrEvent } from './cc-cdr.ts';
import { CdrEvent } from './cdr.ts';
import { DialbegeinEvent } from './dialbegein.ts';
import { DialendEvent } from './dialend.ts';
import { ExtensionstatusEvent } from './extensionstatus.ts';
import { HangupEvent } from './hangup.ts';
import { IvrEvent } from './ivr.ts';

export { CcCdrEvent, CdrEvent, DialbegeinEvent, DialendEvent, ExtensionstatusEvent, HangupEvent, IvrEvent };

/** Every event the box pushes, told apart by `event`. */
export const DocumentedEvent = z.discriminatedUnion('event', [
  DialbegeinEvent,
  DialendEvent,
  HangupEvent,
  ExtensionstatusEvent,
  IvrEvent,
  CdrEvent,
  CcCdrEvent,
]);
export type DocumentedEvent = z.infer<typeof DocumentedEvent>;
export type DocumentedEventName = DocumentedEvent['event'];
