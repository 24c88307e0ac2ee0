// `npm run grade` starts here, in plain JavaScript, so that its first act is to fork the grading
// child: the child then loads the grader and the milestone's checks while this process loads
// the command (grade.ts, prebuilt: grade-bundle.mjs) and finds the broker, instead of after. Both take about as long,
// and there are two cores: this halves what the command adds before the first check
// (docs/grader-performance.md). grade.ts's main() takes the child over (or kills it: --help, a wrong
// command line, a container broker, which is graded in-process).
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadGradeCommand } from './grade-bundle.mjs';

const WORKER = fileURLToPath(new URL('../grading-worker.ts', import.meta.url));
const CHILD_LOADER = fileURLToPath(new URL('../loader/register.mjs', import.meta.url));
const args = process.argv.slice(2);
// The milestone named on the command line, for the child to load its checks ahead; any other choice
// (all, the next one) is the grader's to make, and the child then waits for its request unwarmed.
const named = args.find((arg) => /^(?:[1-9]|10)$/.test(arg));
// The learner's file (not the reference) is likely new since the last run: the child starts its compiler meanwhile.
const learnerFile = !args.includes('solutions');
// As grading-process.ts's spawnTs starts a grading child: its TypeScript loader, stdio inherited, IPC.
const child =
  args.includes('--help') || args.includes('-h')
    ? undefined
    : fork(WORKER, named ? [named] : [], {
        env: learnerFile ? { ...process.env, GRADER_WARM_COMPILER: '1' } : process.env,
        execArgv: ['--import', CHILD_LOADER],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
child?.on('error', () => {});

// The command itself: from its prebuilt bundle (grade-bundle.mjs), without a TypeScript loader; with
// tsx only when the bundle cannot be used (or GRADER_NO_BUNDLE=1), or later for a .ts file it imports at run time.
const registerTsx = async () => {
  const { register } = await import('tsx/esm/api');
  register();
};
const bundled = process.env.GRADER_NO_BUNDLE === '1' ? undefined : await loadGradeCommand(registerTsx);
const main = bundled ?? (await registerTsx(), (await import('./grade.ts')).main);
await main(child);
