/** A benchmark refused to report: its contenders disagree, so their speeds would not be comparable. */
export class BenchError extends Error {
  readonly code = 'BENCH_MISMATCH';
  override readonly name = 'BenchError';
}
