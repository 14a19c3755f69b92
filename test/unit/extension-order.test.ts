import { describe, expect, it } from 'vitest';
import { byExtensionNumber } from '../../agent/ops/extension-order.ts';

describe('extension order', () => {
  it('puts extensions in number order, digits inside names compared as numbers, as before', () => {
    const exts = ['1000', '801', '*97', '8a10', '0800', '8a2', '90', '800', 'Queue'];
    // The order localeCompare(b, 'en', { numeric: true }) gave.
    expect(exts.sort(byExtensionNumber)).toEqual(['*97', '8a2', '8a10', '90', '0800', '800', '801', '1000', 'Queue']);
  });
});
