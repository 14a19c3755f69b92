import type { OperationParams } from '../../shared/api/operations.ts';
import { technology, type OpContext } from './context.ts';
import { hintTechnology, listHints, type Hint } from './hints.ts';

export interface HintRow {
  /** The phone's caller ID name where it has one, else the extension. */
  agentName: string;
  extension: string;
  /** Device technology of the hint: SIP, PJSIP, DAHDI, ... */
  extenType: string;
  status: string;
}

/**
 * GET /extensions/extension-hints-status: a bare array (the document's quirk, kept), one row per
 * hinted extension. An extension hinted in several contexts is shown once, from ctx.context if there.
 */
export async function extensionHintsStatus(_params: OperationParams<'extension-hints-status'>, ctx: OpContext) {
  const hints = await listHints(ctx.ami);
  const byExten = new Map<string, Hint>();
  for (const h of hints) {
    const seen = byExten.get(h.exten);
    if (!seen || (seen.context !== ctx.context && h.context === ctx.context)) byExten.set(h.exten, h);
  }
  const chosen = [...byExten.values()].sort((a, b) => a.exten.localeCompare(b.exten, 'en', { numeric: true }));
  const ownTech = technology(ctx.driver);
  const named = chosen.filter((h) => hintTechnology(h.devices) === ownTech).map((h) => h.exten);
  const names = await ctx.names.lookup(ctx.ami, ctx.driver, named);
  return chosen.map(
    (h): HintRow => ({
      agentName: names.get(h.exten) || h.exten,
      extension: h.exten,
      extenType: hintTechnology(h.devices),
      status: h.status,
    }),
  );
}
