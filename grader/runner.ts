// Grades a milestone's layer: runs its checks (run-check.ts), one after the other or all at once,
// and says, per check and for the milestone, pass, fail or error (verdict.ts decides which).
// All it keeps lives in a Grading made per call, so two gradings can run in one process at once.
// The pieces: check-clock.ts (a check's time), stray-errors.ts (what the graded code throws
// uncaught), run-check.ts (one check: its environment, its run, its cleanup), verdict.ts.
import { describeError } from '../shared/log.ts';
import type { Check } from './check.ts';
import { createCheckVhost, type GradingEnvironment } from './context.ts';
import type { Milestone } from './manifest.ts';
import { type Grading, runCheck } from './run-check.ts';
import { StrayCapture } from './stray-errors.ts';
import { describeThrown, type ErrorKind, milestoneVerdict, type Status } from './verdict.ts';
import { composeLayers, importLearnerLayer } from '../solutions/layers/compose.ts';

export type { Status } from './verdict.ts';

export interface CheckResult {
  id: string;
  name: string;
  /** The 💰 for this result: the failure's own when it has one, else the check's. */
  hint: string;
  /** For a fail: the earlier failed checks it follows from (the check's `after`). */
  followsFrom?: string[];
  status: Status;
  durationMs: number;
  /** For a fail: what was expected and what was seen. */
  expected?: string;
  seen?: string;
  /** One paragraph for people: the failure or error in words. */
  message?: string;
  /** The services' last log lines, when the check ran services and failed. */
  serviceLog?: string[];
  /** For a fail: the cause the check diagnosed, word for word as other checks seeing it say it (CheckFailure.rootCause). */
  rootCause?: string;
  /** What the graded code printed while this check ran (console.log in the layer), trimmed to a few lines. */
  output?: string[];
  /** For an error: whose fault (absent: the environment's). */
  errorKind?: ErrorKind;
}

export interface MilestoneResult {
  milestone: Milestone;
  status: Status;
  checks: CheckResult[];
  durationMs: number;
  /** Set when the milestone could not be graded at all (its file does not load). */
  error?: string;
  /** For an error: whose fault (absent: the environment's). */
  errorKind?: ErrorKind;
  /** What the graded code threw after its check had ended (a timer or a promise left behind): the milestone does not pass. */
  late?: string[];
  /** Type errors in the exercise file (file:line: message): the milestone does not pass while there are any. */
  typeErrors?: string[];
}

export type Target = 'mine' | 'solutions';

// Finding the broker lives in environment.ts, light enough for the command to load before it forks.
export { prepareEnvironment } from './environment.ts';

/** The learner's layer from their exercise file, or the reference layer. */
export async function loadLayer(milestone: Milestone, target: Target): Promise<unknown> {
  return target === 'mine' ? importLearnerLayer(milestone.layer) : composeLayers()[milestone.layer];
}

export interface GradeOptions {
  /** Called as each check starts (the grading process's parent watches for checks that never end). */
  onCheckStart?(check: Check): void;
  /** Called as each check finishes, in order (for live output). */
  onCheck?(result: CheckResult): void;
  announce?(message: string): void;
  /** Ids of checks not to run (already judged by an earlier grading process). */
  skip?: ReadonlySet<string>;
  /**
   * Given, the checks' vhosts still being deleted are handed to it instead of awaited, so that the
   * verdict goes out first: a grading child reports, then waits for them before it exits.
   */
  leaveDeletions?(deletions: Promise<void>): void;
}

/** Grades one milestone's layer. Never throws for what the layer does; only for a broken environment. */
export async function gradeLayer(
  environment: GradingEnvironment,
  milestone: Milestone,
  layer: unknown,
  options: GradeOptions = {},
): Promise<MilestoneResult> {
  const started = Date.now();
  let checks: Check[];
  try {
    checks = await milestone.checks();
  } catch (error) {
    return {
      milestone,
      status: 'error',
      errorKind: 'bug',
      checks: [],
      durationMs: Date.now() - started,
      error: `the checks of milestone ${milestone.number} do not load (a bug in the workshop, please report it): ${describeError(error)}`,
    };
  }
  if (options.skip) checks = checks.filter((check) => !options.skip?.has(check.id));
  const grading: Grading = { strays: new StrayCapture(), pendingDeletions: [], vhostsAhead: new Map() };
  // Graded code may throw from a callback or leave a promise rejected: that fails its check, not the grader.
  grading.strays.start();
  let results: CheckResult[];
  let late: string[];
  try {
    results = await gradeChecks(grading, environment, milestone, layer, checks, options);
  } finally {
    // A vhost made ahead for a check that never ran (the grading stopped early) goes too.
    for (const madeAhead of grading.vhostsAhead.values())
      grading.pendingDeletions.push(madeAhead.then((name) => environment.api.deleteVhost(name)).catch(() => {}));
    grading.vhostsAhead.clear();
    const deletions = Promise.all(grading.pendingDeletions.splice(0)).then(() => {});
    if (options.leaveDeletions) options.leaveDeletions(deletions);
    else await deletions;
    late = grading.strays.stop().map(({ after, error }) => `${describeThrown(error)}${after ? ` (after ${after} had ended)` : ''}`);
  }
  const verdict = milestoneVerdict({ checks: results, late });
  return { milestone, ...verdict, checks: results, durationMs: Date.now() - started, ...(late.length > 0 ? { late } : {}) };
}

async function gradeChecks(
  grading: Grading,
  environment: GradingEnvironment,
  milestone: Milestone,
  layer: unknown,
  checks: Check[],
  options: GradeOptions,
): Promise<CheckResult[]> {
  const announce = options.announce ?? (() => {});
  const run = (check: Check) => {
    // One after the other: the next check's vhost is created while this one runs.
    const next = milestone.concurrentChecks ? undefined : checks[checks.indexOf(check) + 1];
    if (next && !grading.vhostsAhead.has(next.id)) {
      const madeAhead = createCheckVhost(environment, next.id);
      madeAhead.catch(() => {}); // the check it is for makes its own then
      grading.vhostsAhead.set(next.id, madeAhead);
    }
    options.onCheckStart?.(check);
    return runCheck(grading, environment, milestone, layer, check, announce);
  };
  const withCause = (result: CheckResult, earlier: CheckResult[]): CheckResult => {
    const check = checks.find((c) => c.id === result.id);
    const causes = (check?.after ?? []).filter((id) => earlier.some((r) => r.id === id && r.status === 'fail'));
    return result.status === 'fail' && causes.length > 0 ? { ...result, followsFrom: causes } : result;
  };
  const results: CheckResult[] = [];
  // All at once (the milestone says they may run side by side), or one after the other; reported in order either way.
  const pending = milestone.concurrentChecks ? checks.map(run) : undefined;
  for (const [index, check] of checks.entries()) {
    const result = withCause(await (pending?.[index] ?? run(check)), results);
    results.push(result);
    options.onCheck?.(result);
  }
  return results;
}

/** Loads the target's layer and grades it; a file that does not load is an error for the whole milestone. */
export async function gradeMilestone(
  environment: GradingEnvironment,
  milestone: Milestone,
  target: Target,
  options: GradeOptions = {},
): Promise<MilestoneResult> {
  let layer: unknown;
  try {
    layer = await loadLayer(milestone, target);
  } catch (error) {
    const file = target === 'mine' ? milestone.exercise.file : milestone.reference.file;
    // The learner's file is theirs to fix; the reference not loading is a bug in the workshop.
    const errorKind = target === 'mine' ? 'learner' : 'bug';
    return { milestone, status: 'error', errorKind, checks: [], durationMs: 0, error: `${file} does not load: ${describeError(error)}` };
  }
  return gradeLayer(environment, milestone, layer, options);
}
