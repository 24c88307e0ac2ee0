// `npm run grade [-- N | all] [--target solutions] [--json [file]] [--watch] [--restart-my-broker]`
// Grades milestones against a live broker and says, check by check, what passes and what to fix.
import fs from 'node:fs';
import path from 'node:path';
import { BrokerNotFoundError } from '../../shared/broker/find-broker.ts';
import { MILESTONES, milestone as milestoneNumber, type Milestone } from '../manifest.ts';
import { loadProgress, recordResult } from '../../shared/workshop/progress.ts';
import { bold, checkLine, dim, milestoneSummary, red, yellow } from '../report/console.ts';
import { type ResultsJson, toResultsJson } from '../report/json.ts';
import { ChildEnvironmentError, gradeInChildProcess } from '../grading-process.ts';
import { type CheckResult, EnvironmentError, gradeMilestone, prepareEnvironment, type MilestoneResult, type Target } from '../runner.ts';
import { watchAndRegrade } from './watch.ts';
import { CliError, exitWith } from '../../shared/cli/args.ts';
import type { SharedRestartConsent } from '../broker-control.ts';
import { askOnTerminal, type GradeCommandLine, parseGradeCommandLine } from './shared.ts';

type GradeArgs = GradeCommandLine;

/** The command line of `npm run grade`, through the workshop's one parser (GRADE_CLI in shared.ts). */
export const parseGradeArgs = parseGradeCommandLine;

function chooseMilestones(which: GradeArgs['which'], target: Target): Milestone[] {
  if (which === 'all') return MILESTONES;
  if (typeof which === 'number') return [milestoneNumber(which)];
  if (target === 'solutions') return MILESTONES;
  const progress = loadProgress();
  const next = MILESTONES.find((m) => !progress.passed[m.number]);
  return [next ?? (MILESTONES.at(-1) as Milestone)];
}

/**
 * May milestone 4 restart the learner's own broker? Yes with --restart-my-broker; otherwise ask,
 * once per run, where a terminal can answer (stdin and stdout); with none (CI, a pipe, --watch) no.
 */
export function sharedRestartConsent(args: Pick<GradeArgs, 'restartMyBroker'>, terminal = { stdin: process.stdin.isTTY === true, stdout: process.stdout.isTTY === true }): SharedRestartConsent {
  if (args.restartMyBroker) return { kind: 'granted' };
  const ask = terminal.stdin && terminal.stdout ? askOnTerminal() : undefined;
  if (!ask) return { kind: 'refused', why: 'there is no terminal to ask you on: CI, a pipe or --watch' };
  let answer: Promise<boolean> | undefined;
  return { kind: 'ask', ask: (question) => (answer ??= ask(question)) };
}

async function grade(args: GradeArgs): Promise<number> {
  const sharedRestart = sharedRestartConsent(args);
  const environment = await prepareEnvironment({ sharedRestart });
  const results: MilestoneResult[] = [];
  try {
    console.log(dim(`broker: ${new URL(environment.broker.url).host} (${environment.broker.source}); each check runs in a vhost of its own`));
    for (const milestone of chooseMilestones(args.which, args.target)) {
      const file = args.target === 'mine' ? milestone.exercise.file : milestone.reference.file;
      console.log(`\n${bold(`Milestone ${milestone.number}: ${milestone.title}`)} ${dim(file)}`);
      const options = { onCheck: (check: CheckResult) => console.log(checkLine(check)), announce: (message: string) => console.log(yellow(`  ⚠ ${message}`)) };
      // In a child process, so that process.exit or an endless loop in the graded code is a failed
      // check, not a dead grader. A container broker is graded in-process: a child could not restart it.
      const result =
        environment.broker.source === 'container'
          ? await gradeMilestone(environment, milestone, args.target, options)
          : await gradeInChildProcess(milestone, args.target, { ...options, sharedRestart, env: { ...process.env, RABBITMQ_URL: environment.broker.url, RABBITMQ_MANAGEMENT_URL: environment.broker.management.baseUrl } });
      console.log(milestoneSummary(result));
      if (args.target === 'mine') recordResult({ number: result.milestone.number, status: result.status, checks: result.checks });
      results.push(result);
    }
  } finally {
    await environment.broker.stop();
  }
  if (args.json) {
    writeJson(args.json, toResultsJson(results));
    console.log(dim(`\nresults written to ${args.json}`));
  }
  const allPass = results.every((r) => r.status === 'pass');
  console.log(nextStep(results, args));
  return allPass ? 0 : 1;
}

function writeJson(file: string, results: ResultsJson): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
}

function nextStep(results: MilestoneResult[], args: GradeArgs): string {
  const failing = results.find((r) => r.status !== 'pass');
  if (failing) {
    const n = failing.milestone.number;
    return args.target === 'solutions'
      ? red(`\nThe reference failed milestone ${n}: that is a bug in the workshop, please report it.`)
      : `\nNext: fix the first failure in ${failing.milestone.exercise.file}, then run ${bold(`npm run grade -- ${n}`)} again (add --watch to re-grade on save).`;
  }
  if (args.target === 'solutions') return '\nEvery check passes against the reference system.';
  const progress = loadProgress();
  const next = MILESTONES.find((m) => !progress.passed[m.number]);
  return next
    ? `\nNext: milestone ${next.number}, ${next.title}. Read ${bold(`npm run milestone -- ${next.number}`)}.`
    : `\nAll nine milestones pass. Run the whole system on your own layers: ${bold('npm start -- --layers mine')}`;
}

async function main(): Promise<void> {
  let args: GradeArgs;
  try {
    args = parseGradeArgs(process.argv.slice(2));
  } catch (error) {
    if (error instanceof CliError) exitWith(error);
    throw error;
  }
  if (args.watch) return watchAndRegrade(args, process.argv.slice(2).filter((a) => a !== '--watch'));
  try {
    process.exitCode = await grade(args);
  } catch (error) {
    if (error instanceof BrokerNotFoundError || error instanceof EnvironmentError || error instanceof ChildEnvironmentError) {
      console.error(`${red('error')}: cannot grade yet.\n${error.message}`);
      // An environment problem is an error, never a fail: say so in the results file too.
      if (args.json) writeJson(args.json, { version: 3, status: 'error', message: error.message, tests: [] });
      process.exitCode = 3;
      return;
    }
    throw error;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
