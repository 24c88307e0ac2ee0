// Runs a milestone's checks against a layer and says, per check, pass, fail or error.
// fail: the layer did something other than expected (or did not finish in time).
// error: we could not judge (no broker, a broker we cannot restart): never the learner's fault.
import { ManagementApiError } from '../shared/broker/management-api.ts';
import { ExerciseNotWrittenError } from '../shared/workshop/exercise.ts';
import type { Layers } from '../shared/layers/index.ts';
import { describeError } from '../shared/log.ts';
import type { BrokerControl } from './broker-control.ts';
import { CannotJudgeError, type Check, CheckFailure, machineTooBusy } from './check.ts';
import { createCheckContext, type GradingEnvironment } from './context.ts';
import type { Milestone } from './manifest.ts';
import { type Budget, budget } from './stolen-time.ts';
import { composeLayers, importLearnerLayer } from '../solutions/layers/compose.ts';

export type Status = 'pass' | 'fail' | 'error';

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
}

export interface MilestoneResult {
  milestone: Milestone;
  status: Status;
  checks: CheckResult[];
  durationMs: number;
  /** Set when the milestone could not be graded at all (its file does not load). */
  error?: string;
  /** What the graded code threw after its check had ended (a timer or a promise left behind): the milestone does not pass. */
  late?: string[];
  /** Type errors in the exercise file (file:line: message): the milestone does not pass while there are any. */
  typeErrors?: string[];
}

export type Target = 'mine' | 'solutions';

export const DEFAULT_CHECK_TIMEOUT_MS = 5000;

// Finding the broker lives in environment.ts, light enough for the command to load before it forks.
export { EnvironmentError, prepareEnvironment } from './environment.ts';

/** The learner's layer from their exercise file, or the reference layer. */
export async function loadLayer(milestone: Milestone, target: Target): Promise<unknown> {
  return target === 'mine' ? importLearnerLayer(milestone.layer) : composeLayers()[milestone.layer];
}

type Verdict = Pick<CheckResult, 'status' | 'expected' | 'seen' | 'message' | 'rootCause'> & { hint?: string };

function judge(error: unknown): Verdict {
  if (error instanceof CheckFailure) {
    return { status: 'fail', expected: error.expected, seen: error.seen, message: error.message, ...(error.hint ? { hint: error.hint } : {}), ...(error.rootCause ? { rootCause: error.rootCause } : {}) };
  }
  if (error instanceof ExerciseNotWrittenError) return { status: 'fail', message: `🚨 ${error.message}` };
  // CannotJudgeError includes BrokerControlUnavailableError: no broker may be restarted here.
  if (error instanceof ManagementApiError || error instanceof CannotJudgeError) return { status: 'error', message: error.message };
  const name = error instanceof Error ? error.name : 'a value';
  return { status: 'fail', message: `your code threw ${name}: ${describeError(error)}` };
}

async function runCheck(environment: GradingEnvironment, milestone: Milestone, layer: unknown, check: Check, announce: (message: string) => void): Promise<CheckResult> {
  const started = Date.now();
  const timeoutMs = check.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  const base = { id: check.id, name: check.name, hint: check.hint };
  const clock = checkClock(timeoutMs);
  let handle;
  try {
    // Waiting for a broker it may restart (a slow throwaway node, the learner's answer) is not the layer's time.
    handle = await createCheckContext({ ...environment, brokerControl: outsideTheClock(environment.brokerControl, clock) }, milestone.layer, layer as Layers[typeof milestone.layer], check.id, announce);
  } catch (error) {
    return { ...base, status: 'error', durationMs: Date.now() - started, message: `could not prepare the check: ${describeError(error)}` };
  }
  const timedOut = clock.start();
  let verdict: Verdict = { status: 'pass' };
  activeStrays.add(handle.strays);
  try {
    await Promise.race([check.run(handle.context as never), timedOut]);
  } catch (error) {
    verdict = judge(error);
  } finally {
    clock.stop();
    handle.abort();
    const { vhostDeleted } = await handle.cleanup();
    pendingDeletions.push(vhostDeleted);
    activeStrays.delete(handle.strays);
  }
  const [stray] = handle.strays;
  if (verdict.status === 'pass' && stray !== undefined) {
    verdict = { status: 'fail', message: `your code threw where nobody could catch it (in a callback, or a promise nobody awaited): ${describeError(stray)}` };
  }
  const serviceLog = verdict.status !== 'pass' && handle.serviceLog.length > 0 ? handle.serviceLog.slice(-15) : undefined;
  return { ...base, ...verdict, durationMs: Date.now() - started, ...(serviceLog ? { serviceLog } : {}) };
}

interface CheckClock {
  /** Starts the check's time; the promise rejects once it has run out: a CheckFailure, or CannotJudgeError when the machine took too much of it. */
  start(): Promise<never>;
  pause(): void;
  resume(): void;
  stop(): void;
}

/**
 * A check's timeout, which can stand still while the check waits for the environment, not the
 * layer, and which counts only the time the grading process could run (stolen-time.ts): a machine
 * too busy stretches it, up to MAX_STRETCH times; past that the check could not be judged.
 */
function checkClock(timeoutMs: number): CheckClock {
  let time: Budget | undefined;
  let timer: NodeJS.Timeout | undefined;
  let expire: (error: Error) => void = () => {};
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (!time) return; // stopped
      if (time.left() > 0) return arm(); // the machine took some of it: the rest is still owed
      const { wallMs, stolenMs } = time.used();
      const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
      expire(
        time.shortChanged()
          ? machineTooBusy(`the check was still running after ${secs(wallMs)}, but the machine kept the grader from running for ${secs(stolenMs)} of them`)
          : new CheckFailure(`the check to finish within ${timeoutMs / 1000} s`, 'it was still waiting (something never arrived, or a call never returned)'),
      );
    }, Math.max(1, time?.left() ?? timeoutMs));
  };
  return {
    start() {
      const timedOut = new Promise<never>((_, reject) => (expire = reject));
      time = budget(timeoutMs);
      arm();
      return timedOut;
    },
    pause() {
      clearTimeout(timer);
      time?.pause();
    },
    resume() {
      if (!time) return;
      time.resume();
      arm();
    },
    stop() {
      clearTimeout(timer);
      time = undefined;
    },
  };
}

/** The same control, with the check's clock standing still while it finds a broker to restart. */
function outsideTheClock(control: BrokerControl, clock: CheckClock): BrokerControl {
  return {
    async acquireRestartable(options) {
      clock.pause();
      try {
        return await control.acquireRestartable(options);
      } finally {
        clock.resume();
      }
    },
  };
}

/** Where unhandled errors go while checks run: the stray lists of the checks running now. */
const activeStrays = new Set<unknown[]>();
/** Unhandled errors between checks: the graded code left a timer or a promise behind. */
let lateStrays: Array<{ after?: string; error: unknown }> = [];
let lastFinishedCheck: string | undefined;
/** Vhosts of finished checks being deleted in the background; awaited before grading returns. */
const pendingDeletions: Promise<void>[] = [];

function recordStray(error: unknown): void {
  // Between checks: what the previous check's code left behind. Never a crash of the grader.
  if (activeStrays.size === 0) lateStrays.push({ after: lastFinishedCheck, error });
  for (const strays of activeStrays) strays.push(error);
}

export interface GradeOptions {
  /** Called as each check starts (the grading process's parent watches for checks that never end). */
  onCheckStart?(check: Check): void;
  /** Called as each check finishes, in order (for live output). */
  onCheck?(result: CheckResult): void;
  announce?(message: string): void;
  /** Ids of checks not to run (already judged by an earlier grading process). */
  skip?: ReadonlySet<string>;
}

/** Grades one milestone's layer. Never throws for what the layer does; only for a broken environment. */
export async function gradeLayer(environment: GradingEnvironment, milestone: Milestone, layer: unknown, options: GradeOptions = {}): Promise<MilestoneResult> {
  const started = Date.now();
  let checks: Check[];
  try {
    checks = await milestone.checks();
  } catch (error) {
    return { milestone, status: 'error', checks: [], durationMs: Date.now() - started, error: `the checks of milestone ${milestone.number} do not load (a bug in the workshop, please report it): ${describeError(error)}` };
  }
  if (options.skip) checks = checks.filter((check) => !options.skip?.has(check.id));
  // Graded code may throw from a callback or leave a promise rejected: that fails its check, not the grader.
  process.on('unhandledRejection', recordStray);
  process.on('uncaughtException', recordStray);
  lateStrays = [];
  lastFinishedCheck = undefined;
  let result: MilestoneResult;
  try {
    result = await gradeChecks(environment, milestone, layer, checks, options, started);
  } finally {
    await Promise.all(pendingDeletions.splice(0));
    process.off('unhandledRejection', recordStray);
    process.off('uncaughtException', recordStray);
  }
  const late = lateStrays.splice(0).map(({ after, error }) => `${describeThrown(error)}${after ? ` (after ${after} had ended)` : ''}`);
  if (late.length === 0) return result;
  return { ...result, late, status: result.status === 'error' ? 'error' : 'fail' };
}

/** "TypeError: x is undefined", or what a thrown non-Error was. */
export function describeThrown(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${describeError(error)}` : `a thrown ${error === null ? 'null' : typeof error} (${describeError(error)})`;
}

async function gradeChecks(environment: GradingEnvironment, milestone: Milestone, layer: unknown, checks: Check[], options: GradeOptions, started: number): Promise<MilestoneResult> {
  const announce = options.announce ?? (() => {});
  const run = async (check: Check) => {
    options.onCheckStart?.(check);
    const result = await runCheck(environment, milestone, layer, check, announce);
    lastFinishedCheck = check.id;
    return result;
  };
  let results: CheckResult[];
  const withCause = (result: CheckResult, earlier: CheckResult[]): CheckResult => {
    const check = checks.find((c) => c.id === result.id);
    const causes = (check?.after ?? []).filter((id) => earlier.some((r) => r.id === id && r.status === 'fail'));
    return result.status === 'fail' && causes.length > 0 ? { ...result, followsFrom: causes } : result;
  };
  if (milestone.concurrentChecks) {
    const pending = checks.map(run);
    results = [];
    for (const result of pending) {
      const settled = withCause(await result, results);
      results.push(settled);
      options.onCheck?.(settled);
    }
  } else {
    results = [];
    for (const check of checks) {
      const result = withCause(await run(check), results);
      results.push(result);
      options.onCheck?.(result);
    }
  }
  const status: Status = results.some((r) => r.status === 'error') ? 'error' : results.every((r) => r.status === 'pass') ? 'pass' : 'fail';
  return { milestone, status, checks: results, durationMs: Date.now() - started };
}

/** Loads the target's layer and grades it; a file that does not load is an error for the whole milestone. */
export async function gradeMilestone(environment: GradingEnvironment, milestone: Milestone, target: Target, options: GradeOptions = {}): Promise<MilestoneResult> {
  let layer: unknown;
  try {
    layer = await loadLayer(milestone, target);
  } catch (error) {
    const file = target === 'mine' ? milestone.exercise.file : milestone.reference.file;
    return { milestone, status: 'error', checks: [], durationMs: 0, error: `${file} does not load: ${describeError(error)}` };
  }
  return gradeLayer(environment, milestone, layer, options);
}
