// `npm run diff -- N [git diff options]`: your exercise file next to the reference answer, with
// `git diff --no-index` (no repository needed). `-` lines are yours, `+` lines the reference's.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import type { Milestone } from '../manifest.ts';
import { bold, dim, green } from '../report/console.ts';
import { CommandError, isMain, parseMilestoneNumber, runCommand } from './shared.ts';

const USAGE = 'Usage: npm run diff -- <1-9> [git diff options, e.g. --word-diff]';

export function parseDiffArgs(argv: string[]): { milestone: Milestone; gitOptions: string[] } {
  const numbers = argv.filter((arg) => !arg.startsWith('-'));
  if (numbers.length > 1) throw new CommandError(`one milestone at a time. ${USAGE}`, 2);
  return { milestone: parseMilestoneNumber(numbers[0], USAGE), gitOptions: argv.filter((arg) => arg.startsWith('-')) };
}

/** The header line: which side is which. */
export function diffHeader(milestone: Milestone): string {
  return `Milestone ${milestone.number}: ${bold('-')} lines are yours (${milestone.exercise.file}), ${bold('+')} lines the reference's (${milestone.reference.file}).`;
}

/** Runs git diff; 0 = same, 1 = they differ (not an error), anything else is a CommandError. */
export function showDiff(milestone: Milestone, gitOptions: string[] = [], root = process.cwd()): 0 | 1 {
  const mine = milestone.exercise.file;
  const reference = milestone.reference.file;
  if (!fs.existsSync(`${root}/${mine}`)) throw new CommandError(`${mine} is missing. npm run reset -- ${milestone.number} puts the starter back.`);
  if (!fs.existsSync(`${root}/${reference}`)) throw new CommandError(`the reference ${reference} is missing: that is a bug in the workshop, please report it.`);
  console.log(diffHeader(milestone));
  console.log(dim('The reference is the layer of the finished system: it may do more than your exercise asks (helpers, comments).\n'));
  const result = spawnSync('git', ['--no-pager', 'diff', '--no-index', '--color=auto', ...gitOptions, '--', mine, reference], { cwd: root, stdio: 'inherit' });
  if (result.error) throw new CommandError(`npm run diff uses git, which did not run: ${result.error.message}`);
  if (result.status === 0) {
    console.log(green('Your file and the reference are the same.'));
    return 0;
  }
  if (result.status === 1 || result.signal === 'SIGPIPE') return 1; // SIGPIPE: the reader (| head) had enough
  throw new CommandError(`git diff failed (exit code ${result.status}).`);
}

async function main(): Promise<number> {
  const { milestone, gitOptions } = parseDiffArgs(process.argv.slice(2));
  showDiff(milestone, gitOptions);
  return 0; // "they differ" is what the learner asked to see, not a failure
}

if (isMain(import.meta.url)) await runCommand(main);
