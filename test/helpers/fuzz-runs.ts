/**
 * How many runs a fast-check property makes: `base` in `npm test`, times BERTH_FUZZ_RUNS for a
 * longer fuzzing session (`BERTH_FUZZ_RUNS=100 npm run fuzz:props`). For tests only.
 */
export function fuzzRuns(base: number): number {
  const factor = Number(process.env.BERTH_FUZZ_RUNS ?? 1);
  return Math.max(1, Math.round(base * (Number.isFinite(factor) && factor > 0 ? factor : 1)));
}
