// Seeded, reproducible fuzzing: every run uses the same seed unless FUZZ_SEED says otherwise, so a
// failure seen once is seen again. fast-check prints the seed (and the path to the failing case)
// in its failure message; `FUZZ_SEED=<seed> npx vitest run tests/fuzz` replays the run.
import type fc from 'fast-check';

export const DEFAULT_FUZZ_SEED = 20261201;

export function fuzzSeed(): number {
  const fromEnv = process.env.FUZZ_SEED;
  if (fromEnv === undefined || fromEnv === '') return DEFAULT_FUZZ_SEED;
  const seed = Number(fromEnv);
  if (!Number.isSafeInteger(seed)) throw new Error(`FUZZ_SEED must be an integer, got ${JSON.stringify(fromEnv)}`);
  return seed;
}

/**
 * fast-check parameters for `numRuns` cases with the run's seed. Shrinking a failure re-runs cases
 * that each wait for a deadline, so the whole run is bounded: past `timeLimitMs` it stops and
 * fails with the smallest counterexample found so far.
 */
export function fuzzParameters<T>(numRuns: number, timeLimitMs = 80_000): fc.Parameters<T> {
  return { seed: fuzzSeed(), numRuns, interruptAfterTimeLimit: timeLimitMs, markInterruptAsFailure: true };
}

/** Said on failure of a check outside fast-check (after the run), so the run can be replayed. */
export function replayHint(): string {
  return `replay with FUZZ_SEED=${fuzzSeed()} npx vitest run tests/fuzz`;
}
