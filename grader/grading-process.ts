// `npm run grade` grades each milestone in a child process (grading-worker.ts) and watches it from
// here, so that nothing the graded code does can take the grader down with it:
//   - process.exit or a crash while a check runs: that check fails, saying so, and the remaining
//     checks are graded in a new child;
//   - a synchronous endless loop (no heartbeat while its main thread keeps spending CPU,
//     watchdog.ts): the child is killed, likewise;
//   - a child that stands still without spending CPU (a machine too busy, its disk behind other
//     processes' writes): killed too, and the check it was running is "could not judge", never a fail;
//   - a throw after the milestone's result (a timer left behind): the milestone does not pass.
// Meanwhile a second child type-checks the exercise file (typecheck-cli.mjs).
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SharedRestartConsent } from './broker-control.ts';
import { machineTooBusy } from './check.ts';
import type { Milestone } from './manifest.ts';
import type { CheckResult, GradeOptions, MilestoneResult, Target } from './runner.ts';
import { type Silence, watchChild } from './watchdog.ts';

export interface WorkerRequest {
  milestone: number;
  target: Target;
  skip: string[];
  /** A yes or no decided here, or 'ask': the child asks this process, which has the terminal (restart-question). */
  sharedRestart: { kind: 'granted' } | { kind: 'ask' } | { kind: 'refused'; why: string };
}

/** What the parent sends the child after the request: the learner's answer to a restart-question. */
export type ParentMessage = { type: 'restart-answer'; yes: boolean };

export type WorkerResult = Omit<MilestoneResult, 'milestone'>;

export type WorkerMessage =
  | { type: 'heartbeat' }
  | { type: 'check-start'; id: string }
  | { type: 'check'; result: CheckResult }
  | { type: 'announce'; message: string }
  | { type: 'restart-question'; question: string }
  | { type: 'late'; message: string }
  | { type: 'done'; result: WorkerResult }
  | { type: 'environment-error'; message: string };

/** Starting a child (tsx compiling the grader's modules) may take this long on a busy machine; after that, could not judge. */
const STARTUP_MS = 90_000;
/** After its result, a child gets this long to exit by itself before it is killed. */
const EXIT_GRACE_MS = 1000;

/** The grading environment could not be prepared in the child: the message says how to fix it. */
export class ChildEnvironmentError extends Error {}

const WORKER = fileURLToPath(new URL('./grading-worker.ts', import.meta.url));
const TYPECHECK = fileURLToPath(new URL('./typecheck-cli.mjs', import.meta.url));

function spawnTs(file: string, env: NodeJS.ProcessEnv): ChildProcess {
  // tsx as a loader, as `npm run grade` itself runs; stdio inherited so the layer's own logs show.
  return fork(file, [], { env, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

/** Type errors of the exercise file, from a child of its own (the compiler takes a few seconds). */
export function typeCheckInChild(file: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  return new Promise((resolve) => {
    const child = fork(TYPECHECK, [file], { env, execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    let errors: string[] = [];
    child.on('message', (message: { errors: string[] }) => (errors = message.errors));
    child.on('exit', () => resolve(errors));
    child.on('error', () => resolve([]));
  });
}

interface Run {
  /** Ids the child judged (or that died with it), in the order they ended. */
  judged: CheckResult[];
  result?: WorkerResult;
  late: string[];
  environmentError?: string;
  /** Why the child ended without a result: what the checks it was running (and, when it judged none, the rest) get. */
  ended?: Pick<CheckResult, 'status' | 'message'>;
}

/** One child process: grades the checks not in `skip` until it finishes, dies or blocks. */
type ChildOptions = GradeOptions & { sharedRestart: SharedRestartConsent; env: NodeJS.ProcessEnv };

function runChild(milestone: Milestone, target: Target, skip: string[], options: ChildOptions, names: Map<string, { name: string; hint: string }>): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawnTs(WORKER, options.env);
    const run: Run = { judged: [], late: [] };
    const running = new Map<string, number>();
    let silence: Silence | undefined;
    const watchdog = watchChild(child.pid ?? -1, {
      startupMs: STARTUP_MS,
      onSilence(what) {
        silence = what;
        child.kill('SIGKILL');
      },
    });
    child.on('message', (message: WorkerMessage) => {
      watchdog.heard();
      switch (message.type) {
        case 'check-start':
          running.set(message.id, Date.now());
          break;
        case 'check':
          running.delete(message.result.id);
          run.judged.push(message.result);
          options.onCheck?.(message.result);
          break;
        case 'announce':
          options.announce?.(message.message);
          break;
        case 'restart-question': {
          // Asked here, where the terminal is; the child's heartbeats keep coming while the learner thinks.
          const { sharedRestart } = options;
          const answer = sharedRestart.kind === 'ask' ? sharedRestart.ask(message.question).catch(() => false) : Promise.resolve(sharedRestart.kind === 'granted');
          void answer.then((yes) => {
            if (child.connected) child.send({ type: 'restart-answer', yes } satisfies ParentMessage);
          });
          break;
        }
        case 'late':
          run.late.push(message.message);
          break;
        case 'done':
          run.result = message.result;
          setTimeout(() => child.kill('SIGKILL'), EXIT_GRACE_MS).unref();
          break;
        case 'environment-error':
          run.environmentError = message.message;
          break;
      }
    });
    child.on('exit', (code, signal) => {
      watchdog.stop();
      if (!run.result && !run.environmentError) {
        // The checks that were running when the process ended: that is what ended it.
        run.ended = whyItEnded(silence, code, signal);
        const { status, message } = run.ended;
        for (const [id, startedAt] of running) {
          const known = names.get(id);
          const result: CheckResult = { id, name: known?.name ?? id, hint: known?.hint ?? '', status, durationMs: Date.now() - startedAt, message };
          run.judged.push(result);
          options.onCheck?.(result);
        }
      }
      resolve(run);
    });
    const { sharedRestart } = options;
    const request: WorkerRequest = { milestone: milestone.number, target, skip, sharedRestart: sharedRestart.kind === 'ask' ? { kind: 'ask' } : sharedRestart };
    child.send(request);
  });
}

/** What the checks that were running when a child ended get: a fail for what the graded code did, an error when the grader cannot tell. */
function whyItEnded(silence: Silence | undefined, code: number | null, signal: NodeJS.Signals | null): Pick<CheckResult, 'status' | 'message'> {
  const secs = (ms: number) => `${Math.round(ms / 1000)} s`;
  if (silence?.kind === 'blocked') {
    const spent = Number.isNaN(silence.cpuMs) ? '' : `, spending ${secs(silence.cpuMs)} of CPU`;
    return { status: 'fail', message: `your code blocked the event loop for ${secs(silence.silentMs)}${spent} (a synchronous endless loop?), so the grader stopped it` };
  }
  if (silence?.kind === 'stalled') {
    const what = silence.startup
      ? `the grading process did not start within ${secs(silence.silentMs)}`
      : `the grading process stood still for ${secs(silence.silentMs)} without using the CPU (waiting for a busy disk or for a CPU; or your code waits synchronously: execSync, Atomics.wait)`;
    return { status: 'error', message: machineTooBusy(what).message };
  }
  return { status: 'fail', message: `your code ended the grading process (${signal ? `signal ${signal}` : `process.exit(${code})`}, or a crash) while this check ran` };
}

/**
 * Grades a milestone as gradeMilestone does, in child processes; with target 'mine' the exercise
 * file is type-checked at the same time. Throws ChildEnvironmentError when the broker can't be used.
 */
export async function gradeInChildProcess(milestone: Milestone, target: Target, options: Omit<ChildOptions, 'env'> & { env?: NodeJS.ProcessEnv }): Promise<MilestoneResult> {
  const started = Date.now();
  const env = options.env ?? process.env;
  const typeErrors = target === 'mine' ? typeCheckInChild(milestone.exercise.file, env) : Promise.resolve([]);
  // GRADER_ONLY_CHECKS (ids, comma-separated): a test seam, so that the under-load test and bench
  // grade only the checks they are about through this path; the others are not run nor reported.
  const only = env.GRADER_ONLY_CHECKS?.split(',');
  const all = await milestone.checks().catch(() => []);
  const checks = only ? all.filter((check) => only.includes(check.id)) : all;
  const notGraded = all.filter((check) => !checks.includes(check)).map((check) => check.id);
  const names = new Map(checks.map((check) => [check.id, { name: check.name, hint: check.hint }]));
  const judged: CheckResult[] = [];
  const late: string[] = [];
  let last: WorkerResult | undefined;
  // Each child grades what is left; one that dies takes only the checks it was running with it.
  for (let attempt = 0; attempt <= checks.length; attempt++) {
    const run = await runChild(milestone, target, [...notGraded, ...judged.map((r) => r.id)], { ...options, env }, names);
    if (run.environmentError) throw new ChildEnvironmentError(run.environmentError);
    judged.push(...run.judged);
    late.push(...run.late);
    if (run.result) {
      last = run.result;
      break;
    }
    // A child that ended before judging anything (it did not start in time, or the graded file ends
    // its process as it loads) makes no progress, and a new one would not either: the checks left
    // get what ended it (could not judge for a child that never started).
    if (run.judged.length === 0) {
      for (const check of checks.filter((c) => !judged.some((r) => r.id === c.id))) {
        const result: CheckResult = { id: check.id, name: check.name, hint: check.hint, durationMs: 0, status: 'error', message: 'the grading process ended before this check ran', ...run.ended };
        judged.push(result);
        options.onCheck?.(result);
      }
      break;
    }
  }
  const order = (id: string) => checks.findIndex((check) => check.id === id);
  const results = [...judged].sort((a, b) => order(a.id) - order(b.id));
  const errors = await typeErrors;
  const allLate = [...(last?.late ?? []), ...late];
  const anyError = last?.status === 'error' || results.some((r) => r.status === 'error');
  const status = last?.error ? 'error' : anyError ? 'error' : results.length > 0 && results.every((r) => r.status === 'pass') && allLate.length === 0 && errors.length === 0 ? 'pass' : 'fail';
  return {
    milestone,
    status,
    checks: results,
    durationMs: Date.now() - started,
    ...(last?.error ? { error: last.error } : {}),
    ...(allLate.length > 0 ? { late: allLate } : {}),
    ...(errors.length > 0 ? { typeErrors: errors } : {}),
  };
}
