// --watch: re-grade whenever a file of the milestone changes. This process finds the broker once and
// keeps a grading child started ahead, loaded and waiting: a save costs the checks' own time, not
// npm's, tsx's and the grader's. Each grading child is used once, so the learner's edited file is
// imported anew. Where fs.watch is unavailable, Enter re-grades.
import fs from 'node:fs';
import path from 'node:path';
import { kindOf } from '../../shared/cli/errors.ts';
import { formatError } from '../../shared/cli/run-main.ts';
import { describeError } from '../../shared/log.ts';
import { MILESTONES } from '../manifest.ts';
import type { SharedRestartConsent } from '../broker-control.ts';
import { bold, dim, red } from '../report/console.ts';
import { prepareEnvironment } from '../environment.ts';
import type { GradeCommandLine } from './shared.ts';
import { startGradingChild, typeCheckInChild } from '../grading-process.ts';
import { chooseMilestones, finish, gradeAndReport, type StartedAhead } from './grade.ts';

/** Saving a file is often two or three events within a few milliseconds: wait this long for the last. */
const SETTLE_MS = 30;

export async function watchAndRegrade(args: GradeCommandLine): Promise<void> {
  const folders = MILESTONES.map((m) => path.dirname(m.exercise.file)).filter((folder) => fs.existsSync(folder));
  // The terminal's input stays here (Enter re-grades), so the run asks nothing: no restart of the
  // learner's broker unless --restart-my-broker was given.
  const sharedRestart: SharedRestartConsent = args.restartMyBroker
    ? { kind: 'granted' }
    : { kind: 'refused', why: 'there is no terminal to ask you on while --watch runs' };
  const next = () => chooseMilestones(args.which, args.target);
  // Only the grading child is started ahead: the type check must see the file as it is when saved.
  const readyChild = (): StartedAhead => {
    const [milestone] = next();
    // Its compiler started meanwhile, for the file the next save brings (loader/hooks.mjs).
    return milestone
      ? { child: startGradingChild(milestone.number, args.target === 'mine' ? { ...process.env, GRADER_WARM_COMPILER: '1' } : process.env) }
      : {};
  };
  let ahead = readyChild();
  const environment = await prepareEnvironment({ sharedRestart }).catch((error: unknown) => {
    ahead.child?.kill();
    throw error;
  });
  const stop = () => {
    ahead.child?.kill();
    void environment.broker.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  let running = false;
  let again = false;
  const regrade = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    console.clear();
    try {
      const milestones = next();
      const first = milestones[0];
      // The child started ahead; the type check of the file as saved now.
      const started: StartedAhead = {
        ...ahead,
        ...(args.target === 'mine' && first ? { typeErrors: typeCheckInChild(first.exercise.file, process.env) } : {}),
      };
      ahead = {};
      const results = await gradeAndReport(milestones, args, environment, sharedRestart, started);
      finish(results, args);
    } catch (error) {
      // Said as runMain says it (a bug with its stack and where to report it), and watching goes on.
      console.log(kindOf(error) === 'bug' ? formatError(error) : `${red('error')}: ${describeError(error)}`);
    } finally {
      ahead.child?.kill();
      ahead = readyChild();
      running = false;
    }
    console.log(dim(`\n👀 watching milestones/ for changes (${bold('Ctrl-C')} to stop, Enter to re-grade now)`));
    if (again) {
      again = false;
      void regrade();
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const settled = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void regrade(), SETTLE_MS);
  };
  try {
    for (const folder of folders) fs.watch(folder, { recursive: false }, settled);
  } catch {
    console.log('(file watching is not available here: press Enter to re-grade)');
  }
  process.stdin.on('data', () => void regrade());
  void regrade();
  await new Promise(() => {});
}
