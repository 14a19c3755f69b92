import type { OperationParams } from '../../shared/api/operations.ts';
import { ExtensionDirectory } from '../extensions.ts';
import { byExtensionNumber } from './extension-order.ts';
import { technology, type ChannelDriver, type OpContext } from './context.ts';
import { hintTechnology, listHints, type Hint } from './hints.ts';

export interface HintRow {
  /** The phone's caller ID name where it has one, else the extension. */
  agentName: string;
  extension: string;
  /** Technology of the hint's phone (`Custom:DND805&PJSIP/805` -> PJSIP): SIP, PJSIP, DAHDI, ... */
  extenType: string;
  status: string;
}

/**
 * GET /extensions/extension-hints-status: a bare array (the document's quirk, kept), one row per
 * hinted extension. An extension hinted in several contexts is shown once, from ctx.context if there.
 * Names come from each phone's own driver (SIPshowpeer or PJSIPShowEndpoint), when that driver is loaded.
 */
export async function extensionHintsStatus(_params: OperationParams<'extension-hints-status'>, ctx: OpContext) {
  const hints = await listHints(ctx.ami);
  const byExten = new Map<string, Hint>();
  for (const h of hints) {
    const seen = byExten.get(h.exten);
    if (!seen || (seen.context !== ctx.context && h.context === ctx.context)) byExten.set(h.exten, h);
  }
  const chosen = [...byExten.values()].sort((a, b) => byExtensionNumber(a.exten, b.exten));
  const phones = new ExtensionDirectory(chosen);
  const typeOf = (h: Hint) => phones.technologyOf(h.exten) ?? hintTechnology(h.devices);
  const named = new Map<string, ChannelDriver>();
  for (const h of chosen) {
    const driver = ctx.drivers.find((d) => technology(d) === typeOf(h));
    if (driver) named.set(h.exten, driver);
  }
  const names = await ctx.names.lookup(ctx.ami, named);
  return chosen.map(
    (h): HintRow => ({
      agentName: names.get(h.exten) || h.exten,
      extension: h.exten,
      extenType: typeOf(h),
      status: h.status,
    }),
  );
}
