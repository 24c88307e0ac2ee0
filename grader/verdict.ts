// The one place that decides a verdict: of a check from what its run threw, and of a milestone from
// its checks (the runner in-process and `npm run grade`'s parent process both ask here).
//   pass:  every check passed, nothing was thrown late, the file type-checks;
//   fail:  the layer did something other than expected (or did not finish in time): the learner's to fix;
//   error: could not judge. `errorKind` says whose fault: 'environment' (no broker, a broker we
//          cannot restart, a machine too busy; the default), 'learner' (their file does not load),
//          'bug' (the workshop's own: its checks or its reference do not load) or 'not-applicable'
//          (the check needs a newer broker than this one: it does not hold the milestone back).
// And what a command exits with for a set of verdicts (shared/cli/errors.ts's statuses).
import { ExerciseNotWrittenError } from '../shared/workshop/exercise.ts';
import { EXIT_STATUS, kindOf, WorkshopError } from '../shared/cli/errors.ts';
import { describeError } from '../shared/log.ts';
import { BrokerTooOldError, CheckFailure } from './check.ts';

export type Status = 'pass' | 'fail' | 'error';

/**
 * Whose fault a verdict of 'error' is (absent: the environment's; 'learner': their file does not
 * load); 'not-applicable': nobody's, the check needs a newer broker (BrokerTooOldError).
 */
export type ErrorKind = 'environment' | 'learner' | 'bug' | 'not-applicable';

export interface CheckVerdict {
  status: Status;
  expected?: string;
  seen?: string;
  message?: string;
  rootCause?: string;
  hint?: string;
  errorKind?: ErrorKind;
}

/** What a check's run threw says about the layer: a CheckFailure or anything the layer threw is a fail; the environment's errors are "could not judge". */
export function judgeThrown(error: unknown): CheckVerdict {
  if (error instanceof CheckFailure) {
    return {
      status: 'fail',
      expected: error.expected,
      seen: error.seen,
      message: error.message,
      ...(error.hint ? { hint: error.hint } : {}),
      ...(error.rootCause ? { rootCause: error.rootCause } : {}),
    };
  }
  if (error instanceof ExerciseNotWrittenError) return { status: 'fail', message: `🚨 ${error.message}` };
  if (error instanceof BrokerTooOldError) return { status: 'error', errorKind: 'not-applicable', message: describeError(error) };
  // CannotJudgeError (and BrokerControlUnavailableError, a broker nobody may restart) and ManagementApiError are EnvironmentErrors.
  // Only the grader's own say-so: a refused connection (ECONNREFUSED) thrown by the layer is the layer's.
  if (error instanceof WorkshopError && error.kind === 'environment') return { status: 'error', message: describeError(error) };
  // Thrown while the layer ran: the layer's, as far as the grader can tell.
  const name = error instanceof Error ? error.name : 'a value';
  return { status: 'fail', message: `your code threw ${name}: ${describeError(error)}` };
}

/** A check that could not even start (its vhost, its context): the environment's, or a bug in the grader. */
export function notPrepared(error: unknown): CheckVerdict {
  const errorKind: 'environment' | 'bug' = kindOf(error) === 'environment' ? 'environment' : 'bug';
  return {
    status: 'error',
    errorKind,
    message: `could not prepare the check${errorKind === 'bug' ? ' (a bug in the grader)' : ''}: ${describeError(error)}`,
  };
}

/** A check that passed, but whose code threw where nobody could catch it: a fail. */
export function withStrays(verdict: CheckVerdict, strays: readonly unknown[]): CheckVerdict {
  const [stray] = strays;
  if (verdict.status !== 'pass' || stray === undefined) return verdict;
  return {
    status: 'fail',
    message: `your code threw where nobody could catch it (in a callback, or a promise nobody awaited): ${describeError(stray)}`,
  };
}

export interface MilestoneParts {
  checks: ReadonlyArray<{ status: Status; errorKind?: ErrorKind }>;
  /** What the graded code threw after its check had ended. */
  late?: readonly string[];
  typeErrors?: readonly string[];
  /** Set when the milestone could not be graded at all. */
  error?: string;
  errorKind?: ErrorKind;
}

/** A check that needs a newer broker than this one: it neither fails a milestone nor holds it back. */
function notApplicable(check: { status: Status; errorKind?: ErrorKind }): boolean {
  return check.status === 'error' && check.errorKind === 'not-applicable';
}

/**
 * The milestone's verdict: any error is "could not judge", but for checks that need a newer broker;
 * a pass needs at least one passing check and every other not applicable here, nothing late, no type errors.
 */
export function milestoneVerdict(parts: MilestoneParts): { status: Status; errorKind?: ErrorKind } {
  if (parts.error !== undefined)
    return parts.errorKind && parts.errorKind !== 'environment' ? { status: 'error', errorKind: parts.errorKind } : { status: 'error' };
  // Nothing this broker can check is could-not-judge too, never a fail.
  if (parts.checks.length > 0 && parts.checks.every(notApplicable)) return { status: 'error' };
  const errors = parts.checks.filter((check) => check.status === 'error' && !notApplicable(check));
  if (errors.length > 0)
    return errors.some((check) => check.errorKind === 'bug') ? { status: 'error', errorKind: 'bug' } : { status: 'error' };
  const pass =
    parts.checks.some((check) => check.status === 'pass') &&
    parts.checks.every((check) => check.status === 'pass' || notApplicable(check)) &&
    (parts.late?.length ?? 0) === 0 &&
    (parts.typeErrors?.length ?? 0) === 0;
  return { status: pass ? 'pass' : 'fail' };
}

/** What `npm run grade` exits with: 0 all pass, 1 a fail (or a file of the learner's that does not load), 3 could not judge (the environment), 4 a bug in the workshop. */
export function gradeExitStatus(results: ReadonlyArray<{ status: Status; errorKind?: ErrorKind }>): number {
  const errors = results.filter((r) => r.status === 'error');
  if (errors.some((r) => r.errorKind === 'bug')) return EXIT_STATUS.bug;
  if (errors.some((r) => (r.errorKind ?? 'environment') === 'environment')) return EXIT_STATUS.environment;
  return results.every((r) => r.status === 'pass') ? 0 : EXIT_STATUS.learner;
}

/** "TypeError: x is undefined", or what a thrown non-Error was. */
export function describeThrown(error: unknown): string {
  return error instanceof Error
    ? `${error.name}: ${describeError(error)}`
    : `a thrown ${error === null ? 'null' : typeof error} (${describeError(error)})`;
}
