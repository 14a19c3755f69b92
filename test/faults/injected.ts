import { expect } from 'vitest';
import { recordRow, type FaultRow } from './figures.ts';

/**
 * Records a row, then fails it when its fault injected nothing: a fault that did not happen would
 * pass every other check (nothing lost, nothing through) and prove nothing. Recorded first, so the
 * table shows the 0 of a failed row.
 */
export function recordInjected(file: string, row: FaultRow): void {
  recordRow(file, row);
  expect(row.injected, `${row.fault}: the fault was not injected (0 ${row.injectedWhat})`).toBeGreaterThan(0);
}
