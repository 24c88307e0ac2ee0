// `npm run grade` grades each milestone in a child process (grading-worker.ts) and watches it from
// here, so that nothing the graded code does can take the grader down with it:
//   - process.exit or a crash while a check runs: that check fails, saying so, and the remaining
//     checks are graded in a new child;
//   - a synchronous endless loop (no heartbeat while its main thread keeps spending CPU,
//     watchdog.ts): the child is killed, likewise;
//   - a child that stands still without spending CPU (a machine too busy, its disk behind other
//     processes' writes): killed too, and the check it was running is "could not judge", never a fail;
//   - a throw after the milestone's result (a timer left behind): the milestone does not pass.
// Meanwhile the exercise file is type-checked (typecheck.ts). The first child is started before the
// broker is found (startGradingChild): it loads its TypeScript loader, the grader and the milestone's checks meanwhile.
// The messages both sides exchange are in grading-messages.ts; what an ended child's checks get, in
// why-child-ended.ts; the graded code's printed lines, gathered per check, in printed-output.ts.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SharedRestartConsent } from './broker-control.ts';
import { fromWire, type WireError } from '../shared/cli/errors.ts';
import type { CheckName, ParentMessage, WorkerMessage, WorkerRequest, WorkerResult } from './grading-messages.ts';
import type { Milestone } from './manifest.ts';
import { PrintedOutput } from './printed-output.ts';
import type { CheckResult, GradeOptions, MilestoneResult, Target } from './runner.ts';
import { typeErrorsOf } from './typecheck.ts';
import { milestoneVerdict } from './verdict.ts';
import { type Silence, watchChild } from './watchdog.ts';
import { whyItEnded } from './why-child-ended.ts';

/** Starting a child (compiling the grader's modules) may take this long on a busy machine; after that, could not judge. */
const STARTUP_MS = 90_000;
/** After its result, a child gets this long to exit by itself before it is killed. */
const EXIT_GRACE_MS = 1000;

const WORKER = fileURLToPath(new URL('./grading-worker.ts', import.meta.url));
/** The grading child's TypeScript loader: tsx's compiler with a cache, without tsx's start (loader/register.mjs). */
export const CHILD_LOADER = fileURLToPath(new URL('./loader/register.mjs', import.meta.url));

function spawnTs(file: string, env: NodeJS.ProcessEnv, args: string[] = []): ChildProcess {
  // stdio inherited so the layer's own logs show.
  return fork(file, args, { env, execArgv: ['--import', CHILD_LOADER], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

/**
 * A grading child started ahead of its request: while the parent finds the broker (or, with --watch,
 * waits for the next save) it loads the grader and `milestone`'s checks, never the learner's
 * file. gradeInChildProcess takes it through `spare`.
 */
export function startGradingChild(milestone: number, env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const child = spawnTs(WORKER, env, [String(milestone)]);
  child.on('error', () => {});
  return child;
}

/** Type errors of the exercise file, from the compiler in a process of its own (typecheck.ts). */
export function typeCheckInChild(file: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  return typeErrorsOf(file, { env });
}

interface Run {
  /** The milestone's checks, as the child listed them before grading. */
  checks?: CheckName[];
  /** Ids the child judged (or that died with it), in the order they ended. */
  judged: CheckResult[];
  result?: WorkerResult;
  late: string[];
  /** What ended grading as a whole in the child (no broker there, a bug), to throw again here. */
  error?: WireError;
  /** Why the child ended without a result: what the checks it was running (and, when it judged none, the rest) get. */
  ended?: Pick<CheckResult, 'status' | 'message'>;
}

/** One child process: grades the checks not in `skip` until it finishes, dies or blocks. */
type ChildOptions = GradeOptions & {
  sharedRestart: SharedRestartConsent;
  env: NodeJS.ProcessEnv;
  /** The broker the parent found: given to the child in its request, which then skips finding it again. */
  broker?: WorkerRequest['broker'];
  /** Hands over a child started ahead (startGradingChild) for the first run, once; undefined: fork one. */
  spare?: () => ChildProcess | undefined;
  /** The type errors, when the caller started the type check earlier (before finding the broker). */
  typeErrors?: Promise<string[]>;
};

function runChild(
  milestone: Milestone,
  target: Target,
  skip: string[],
  options: ChildOptions,
  names: Map<string, CheckName>,
): Promise<Run> {
  return new Promise((resolve) => {
    const child = options.spare?.() ?? spawnTs(WORKER, options.env);
    const run: Run = { judged: [], late: [] };
    const printed = new PrintedOutput();
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
        case 'checks':
          run.checks = message.checks;
          for (const check of message.checks) names.set(check.id, check);
          break;
        case 'output':
          printed.add(message.id, message.text, message.dropped);
          break;
        case 'check': {
          running.delete(message.result.id);
          const result = printed.attach(message.result);
          run.judged.push(result);
          options.onCheck?.(result);
          break;
        }
        case 'announce':
          options.announce?.(message.message);
          break;
        case 'restart-question': {
          // Asked here, where the terminal is; the child's heartbeats keep coming while the learner thinks.
          const { sharedRestart } = options;
          const answer =
            sharedRestart.kind === 'ask'
              ? sharedRestart.ask(message.question).catch(() => false)
              : Promise.resolve(sharedRestart.kind === 'granted');
          void answer.then((yes) => {
            if (child.connected) child.send({ type: 'restart-answer', yes } satisfies ParentMessage);
          });
          break;
        }
        case 'late':
          run.late.push(message.message);
          break;
        case 'done':
          // The verdict is in: report it now. The child deletes its checks' vhosts and exits by
          // itself (killed if it has not after EXIT_GRACE_MS); this process need not wait for it.
          run.result = message.result;
          watchdog.stop();
          setTimeout(() => child.kill('SIGKILL'), EXIT_GRACE_MS).unref();
          child.unref();
          child.channel?.unref();
          resolve(run);
          break;
        case 'error':
          run.error = message.error;
          break;
      }
    });
    child.on('exit', (code, signal) => {
      watchdog.stop();
      if (!run.result && !run.error) {
        // The checks that were running when the process ended: that is what ended it.
        run.ended = whyItEnded(silence, code, signal);
        const { status, message } = run.ended;
        for (const [id, startedAt] of running) {
          const known = names.get(id);
          const result = printed.attach({
            id,
            name: known?.name ?? id,
            hint: known?.hint ?? '',
            status,
            durationMs: Date.now() - startedAt,
            message,
          });
          run.judged.push(result);
          options.onCheck?.(result);
        }
      }
      resolve(run);
    });
    const { sharedRestart } = options;
    const request: WorkerRequest = {
      milestone: milestone.number,
      target,
      skip,
      sharedRestart: sharedRestart.kind === 'ask' ? { kind: 'ask' } : sharedRestart,
      ...(options.broker ? { broker: options.broker } : {}),
    };
    child.send(request);
  });
}

/**
 * Grades a milestone as gradeMilestone does, in child processes; with target 'mine' the exercise
 * file is type-checked at the same time. Throws what ended grading in the child, of its kind
 * (shared/cli/errors.ts): an EnvironmentError when the broker can't be used, a bug otherwise.
 */
export async function gradeInChildProcess(
  milestone: Milestone,
  target: Target,
  options: Omit<ChildOptions, 'env'> & { env?: NodeJS.ProcessEnv },
): Promise<MilestoneResult> {
  const started = Date.now();
  const env = options.env ?? process.env;
  const typeErrors = target !== 'mine' ? Promise.resolve([]) : (options.typeErrors ?? typeCheckInChild(milestone.exercise.file, env));
  // The checks' names come from the first child, which lists them before it grades: loading them
  // here too would cost this process what the child already does.
  const names = new Map<string, CheckName>();
  let checks: CheckName[] | undefined;
  const judged: CheckResult[] = [];
  const late: string[] = [];
  let last: WorkerResult | undefined;
  // Each child grades what is left; one that dies takes only the checks it was running with it.
  for (let attempt = 0; attempt <= (checks?.length ?? 0); attempt++) {
    const run = await runChild(
      milestone,
      target,
      judged.map((r) => r.id),
      { ...options, env, ...(attempt > 0 ? { spare: undefined } : {}) },
      names,
    );
    if (run.error) throw fromWire(run.error);
    checks ??= run.checks;
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
      for (const check of (checks ?? []).filter((c) => !judged.some((r) => r.id === c.id))) {
        const result: CheckResult = {
          id: check.id,
          name: check.name,
          hint: check.hint,
          durationMs: 0,
          status: 'error',
          message: 'the grading process ended before this check ran',
          ...run.ended,
        };
        judged.push(result);
        options.onCheck?.(result);
      }
      break;
    }
  }
  if (!checks) {
    last = {
      status: 'error',
      errorKind: 'bug',
      checks: [],
      durationMs: Date.now() - started,
      error: 'the grading process ended before it could list the checks (a bug in the grader, please report it)',
    };
  }
  const order = (id: string) => (checks ?? []).findIndex((check) => check.id === id);
  const results = [...judged].sort((a, b) => order(a.id) - order(b.id));
  const errors = await typeErrors;
  const allLate = [...(last?.late ?? []), ...late];
  const verdict = milestoneVerdict({
    checks: results,
    late: allLate,
    typeErrors: errors,
    ...(last?.error ? { error: last.error, ...(last.errorKind ? { errorKind: last.errorKind } : {}) } : {}),
  });
  return {
    milestone,
    ...verdict,
    checks: results,
    durationMs: Date.now() - started,
    ...(last?.error ? { error: last.error } : {}),
    ...(allLate.length > 0 ? { late: allLate } : {}),
    ...(errors.length > 0 ? { typeErrors: errors } : {}),
  };
}
