import { clearRows, collectRows, renderTable, writeFaultsJson } from './figures.ts';

/** Starts each run with no rows; at the end prints the table and writes test-output/faults.json. */
export default function setup(): () => void {
  clearRows();
  return () => {
    const rows = collectRows();
    writeFaultsJson(rows);
    process.stdout.write(`\nFaults and abuse: figures\n\n${renderTable(rows)}\n\n`);
  };
}
