// `npm run grade [-- N | all] [--target solutions] [--json [file]] [--watch] [--restart-my-broker]`
// Grades milestones against a live broker and says, check by check, what passes and what to fix.
// Feedback has to feel immediate, so before it finds the broker it starts the first grading child
// (which loads the grader and the checks meanwhile) and the type check; and it loads nothing of the
// checks or the reference system itself (docs/grader-performance.md).
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CORE_MILESTONES, MILESTONES, milestone as milestoneNumber, type Milestone, OPTIONAL_MILESTONES } from '../manifest.ts';
import { loadProgress, recordResult } from '../../shared/workshop/progress.ts';
import { bold, checkLine, dim, milestoneSummary, red, yellow } from '../report/console.ts';
import { type ResultsJson, toResultsJson } from '../report/json.ts';
import { gradeInChildProcess, startGradingChild, typeCheckInChild } from '../grading-process.ts';
import type { CheckResult, MilestoneResult, Target } from '../runner.ts';
import type { GradingEnvironment } from '../context.ts';
import { prepareEnvironment } from '../environment.ts';
import { watchAndRegrade } from './watch.ts';
import { EnvironmentError, kindOf, REPORT_A_BUG } from '../../shared/cli/errors.ts';
import { runMain } from '../../shared/cli/run-main.ts';
import { describeError } from '../../shared/log.ts';
import { gradeExitStatus } from '../verdict.ts';
import type { SharedRestartConsent } from '../broker-control.ts';
import { brokerHandOver } from '../environment.ts';
import { askOnTerminal, type GradeCommandLine, parseGradeCommandLine } from './shared.ts';

type GradeArgs = GradeCommandLine;

/**
 * A number: that milestone. `all` (and no number with --target solutions): the nine, or the ten with
 * --with-optional. No number: the first of those you have not passed, else the last of them again.
 */
export function chooseMilestones(which: GradeArgs['which'], target: Target, withOptional = false): Milestone[] {
  const counted = withOptional ? MILESTONES : CORE_MILESTONES;
  if (which === 'all') return counted;
  if (typeof which === 'number') return [milestoneNumber(which)];
  if (target === 'solutions') return counted;
  const progress = loadProgress();
  const next = counted.find((m) => !progress.passed[m.number]);
  return [next ?? (counted.at(-1) as Milestone)];
}

/**
 * May milestone 4 restart the learner's own broker? Yes with --restart-my-broker; otherwise ask,
 * once per run, where a terminal can answer (stdin and stdout); with none (CI, a pipe, --watch) no.
 */
export function sharedRestartConsent(
  args: Pick<GradeArgs, 'restartMyBroker'>,
  terminal = { stdin: process.stdin.isTTY === true, stdout: process.stdout.isTTY === true },
): SharedRestartConsent {
  if (args.restartMyBroker) return { kind: 'granted' };
  const ask = terminal.stdin && terminal.stdout ? askOnTerminal() : undefined;
  if (!ask) return { kind: 'refused', why: 'there is no terminal to ask you on: CI, a pipe or --watch' };
  let answer: Promise<boolean> | undefined;
  return { kind: 'ask', ask: (question) => (answer ??= ask(question)) };
}

/** What is started before the broker is found, for the first milestone to grade. */
export interface StartedAhead {
  /** A grading child loading the grader meanwhile; handed over once. */
  child?: ChildProcess;
  /** The exercise file's type check, already running. */
  typeErrors?: Promise<string[]>;
}

/** Starts, for `milestone`, a grading child (unless one was started already) and, for the learner's file, the type check. */
function startAhead(milestone: Milestone | undefined, target: Target, child?: ChildProcess): StartedAhead {
  if (!milestone) return child ? { child } : {};
  return {
    child: child ?? startGradingChild(milestone.number),
    ...(target === 'mine' ? { typeErrors: typeCheckInChild(milestone.exercise.file, process.env) } : {}),
  };
}

async function grade(args: GradeArgs, startedChild?: ChildProcess): Promise<number> {
  const sharedRestart = sharedRestartConsent(args);
  const milestones = chooseMilestones(args.which, args.target, args.withOptional);
  const ahead = startAhead(milestones[0], args.target, startedChild);
  try {
    const environment = await prepareEnvironment({ sharedRestart });
    try {
      console.log(
        dim(`broker: ${new URL(environment.broker.url).host} (${environment.broker.source}); each check runs in a vhost of its own`),
      );
      const results = await gradeAndReport(milestones, args, environment, sharedRestart, ahead);
      return finish(results, args);
    } finally {
      await environment.broker.stop();
    }
  } finally {
    ahead.child?.kill();
  }
}

/** Grades the milestones one by one, printing each check as it ends and each milestone's summary. */
export async function gradeAndReport(
  milestones: Milestone[],
  args: GradeArgs,
  environment: GradingEnvironment,
  sharedRestart: SharedRestartConsent,
  ahead: StartedAhead = {},
): Promise<MilestoneResult[]> {
  const results: MilestoneResult[] = [];
  for (const [index, milestone] of milestones.entries()) {
    const file = args.target === 'mine' ? milestone.exercise.file : milestone.reference.file;
    console.log(`\n${bold(`Milestone ${milestone.number}: ${milestone.title}`)} ${dim(file)}`);
    const options = {
      onCheck: (check: CheckResult) => console.log(checkLine(check)),
      announce: (message: string) => console.log(yellow(`  ⚠ ${message}`)),
    };
    const started = index === 0 ? ahead : {};
    let result: MilestoneResult;
    if (environment.broker.source === 'container') {
      // A container broker is graded in-process: a child could not restart it. The runner and the
      // environment it is given come from the .ts files (through tsx, when this command runs from its
      // bundle: grade-bundle.mjs), so that the classes the checks throw and the runner recognises
      // (ManagementApiError, CannotJudgeError) are one copy each.
      started.child?.kill();
      const [{ gradeMilestone }, { environmentFor }] = await Promise.all([import('../runner.ts'), import('../environment.ts')]);
      result = await gradeMilestone(environmentFor(environment.broker, { sharedRestart }), milestone, args.target, options);
    } else {
      // In a child process, so that process.exit or an endless loop in the graded code is a failed
      // check, not a dead grader.
      const broker = brokerHandOver(environment);
      const spare = () => {
        const child = started.child;
        delete started.child;
        // One that ended while it waited (killed, out of memory) is replaced by a new one.
        return child && child.connected && child.exitCode === null && child.signalCode === null ? child : undefined;
      };
      result = await gradeInChildProcess(milestone, args.target, {
        ...options,
        sharedRestart,
        broker,
        spare,
        ...(started.typeErrors ? { typeErrors: started.typeErrors } : {}),
        env: { ...process.env, RABBITMQ_URL: broker.url, RABBITMQ_MANAGEMENT_URL: broker.managementUrl },
      });
    }
    console.log(milestoneSummary(result));
    if (args.target === 'mine') recordResult({ number: result.milestone.number, status: result.status, checks: result.checks });
    results.push(result);
  }
  return results;
}

/** Writes the JSON results if asked, says what to do next, and returns the exit code. */
export function finish(results: MilestoneResult[], args: GradeArgs): number {
  if (args.json) {
    writeJson(args.json, toResultsJson(results));
    console.log(dim(`\nresults written to ${args.json}`));
  }
  console.log(nextStep(results, args));
  return gradeExitStatus(results);
}

export function writeJson(file: string, results: ResultsJson): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
}

function nextStep(results: MilestoneResult[], args: GradeArgs): string {
  const failing = results.find((r) => r.status !== 'pass');
  if (failing?.status === 'error' && failing.errorKind === 'bug') return red(`\n${REPORT_A_BUG}`);
  if (failing?.status === 'error' && failing.errorKind !== 'learner') {
    return `\nSome checks could not be judged, through no fault of your code: run ${bold(`npm run grade -- ${failing.milestone.number}`)} again.`;
  }
  if (failing) {
    const n = failing.milestone.number;
    return args.target === 'solutions'
      ? red(`\nThe reference failed milestone ${n}: that is a bug in the workshop, please report it.`)
      : `\nNext: fix the first failure in ${failing.milestone.exercise.file}, then run ${bold(`npm run grade -- ${n}`)} again (add --watch to re-grade on save).`;
  }
  if (args.target === 'solutions') {
    const notApplicable = results.flatMap((r) => r.checks).filter((c) => c.status === 'error' && c.errorKind === 'not-applicable').length;
    return notApplicable === 0
      ? '\nEvery check passes against the reference system.'
      : `\nThe reference system passes every check this broker can judge (${notApplicable} ${notApplicable === 1 ? 'needs' : 'need'} a newer RabbitMQ).`;
  }
  const progress = loadProgress();
  const next = (args.withOptional ? MILESTONES : CORE_MILESTONES).find((m) => !progress.passed[m.number]);
  if (next) return `\nNext: milestone ${next.number}, ${next.title}. Read ${bold(`npm run milestone -- ${next.number}`)}.`;
  const further = OPTIONAL_MILESTONES.find((m) => !progress.passed[m.number]);
  return (
    `\nAll nine milestones pass. Run the whole system on your own layers: ${bold('npm start -- --layers mine')}` +
    (further
      ? `\nGoing further (optional): milestone ${further.number}, ${further.title}: ${bold(`npm run milestone -- ${further.number}`)}`
      : '')
  );
}

/**
 * The command; `startedChild`: a grading child grade-start.mjs forked before this module loaded.
 * Exits (shared/cli/errors.ts) 0 every check passes, 1 a check fails, 2 a wrong command line,
 * 3 could not judge (no usable broker, a machine too busy), 4 a bug in the workshop.
 */
export async function main(startedChild?: ChildProcess): Promise<void> {
  await runMain(async () => {
    let args: GradeArgs;
    try {
      args = parseGradeCommandLine(process.argv.slice(2));
    } catch (error) {
      startedChild?.kill();
      throw error;
    }
    if (args.watch) {
      startedChild?.kill();
      return watchAndRegrade(args);
    }
    try {
      return await grade(args, startedChild);
    } catch (error) {
      const kind = kindOf(error);
      // An environment problem (or a bug) is an error, never a fail: say so in the results file too.
      if (args.json && (kind === 'environment' || kind === 'bug'))
        writeJson(args.json, { version: 3, status: 'error', message: describeError(error), tests: [] });
      if (kind === 'environment') throw new EnvironmentError(`cannot grade yet.\n${describeError(error)}`, { cause: error });
      throw error;
    }
  });
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
