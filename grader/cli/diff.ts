// `npm run diff -- N [--yes] [--word-diff] [-- <git diff options>]`: your exercise file next to the
// reference answer, with `git diff --no-index` (no repository needed). `-` lines are yours, `+` lines
// the reference's. Before milestone N passes the diff is a spoiler, so it asks first; without a
// terminal to answer it refuses (exit 1) unless given --yes, as `npm run reset` does.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { CliError, defineCli, runMain, WorkshopBug } from '../../shared/cli/args.ts';
import { loadProgress, type Progress } from '../../shared/workshop/progress.ts';
import type { Milestone } from '../manifest.ts';
import { bold, dim, green } from '../report/console.ts';
import { askOnTerminal, isMain, MILESTONE_ARGUMENT, parseMilestoneNumber } from './shared.ts';

export const DIFF_CLI = defineCli({
  command: 'npm run diff',
  synopsis: ['npm run diff -- <1-10> [--yes] [--word-diff] [-- <git diff options>]'],
  summary: `Your exercise file next to the reference answer (git diff): - lines are yours, + lines the
reference's. Before the milestone passes this is a spoiler, so it asks first.`,
  positionals: MILESTONE_ARGUMENT,
  passthrough: { name: '<git diff options>', description: 'handed to git diff, e.g. -- --stat' },
  options: {
    yes: { type: 'boolean', short: 'y', description: 'do not ask first, even before the milestone passes' },
    'word-diff': { type: 'boolean', description: 'show changed words instead of whole lines' },
  },
  notes: 'Without a terminal to answer (a script, CI), it refuses before the milestone passes unless given --yes (exit 1).',
});

export interface DiffArgs {
  milestone: Milestone;
  yes: boolean;
  gitOptions: string[];
}

/** Throws HelpRequested (--help) or UsageError (exit 2). */
export function parseDiffArgs(argv: string[]): DiffArgs {
  const { values, positionals, rest } = DIFF_CLI.parse(argv);
  return {
    milestone: parseMilestoneNumber(positionals[0], DIFF_CLI),
    yes: values.yes ?? false,
    gitOptions: [...(values['word-diff'] ? ['--word-diff'] : []), ...rest],
  };
}

/**
 * Whether to show the diff: yes once the milestone passed or with --yes; else the learner is asked,
 * and without a terminal to ask on it is a CliError saying how to see it anyway.
 */
export async function confirmSpoiler(
  milestone: Milestone,
  options: { yes: boolean; progress: Progress; ask?: (question: string) => Promise<boolean>; out?: (line: string) => void },
): Promise<boolean> {
  const { out = console.log } = options;
  if (options.yes || options.progress.passed[milestone.number]) return true;
  const n = milestone.number;
  if (!options.ask) {
    throw new CliError(
      `npm run diff -- ${n} shows the reference answer of milestone ${n}, which you have not passed yet, so it asks first; there is no terminal here to answer.\n` +
        `To see it anyway: npm run diff -- ${n} --yes`,
    );
  }
  out(`Milestone ${n} has not passed yet: the diff shows the reference answer, a spoiler.`);
  out(dim(`Stuck? npm run hint -- ${n} gives a hint, one level at a time.`));
  const yes = await options.ask(`Show the reference answer of milestone ${n}? [y/N] `);
  if (!yes) out('Nothing shown.');
  return yes;
}

/** The header line: which side is which. */
export function diffHeader(milestone: Milestone): string {
  return `Milestone ${milestone.number}: ${bold('-')} lines are yours (${milestone.exercise.file}), ${bold('+')} lines the reference's (${milestone.reference.file}).`;
}

/** Runs git diff; 0 = same, 1 = they differ (not an error), anything else is a CliError. */
export function showDiff(milestone: Milestone, gitOptions: string[] = [], root = process.cwd()): 0 | 1 {
  const mine = milestone.exercise.file;
  const reference = milestone.reference.file;
  if (!fs.existsSync(`${root}/${mine}`))
    throw new CliError(`${mine} is missing. npm run reset -- ${milestone.number} puts the starter back.`);
  if (!fs.existsSync(`${root}/${reference}`)) throw new WorkshopBug(`the reference ${reference} is missing`);
  console.log(diffHeader(milestone));
  console.log(dim('The reference is the layer of the finished system: it may do more than your exercise asks (helpers, comments).\n'));
  const result = spawnSync('git', ['--no-pager', 'diff', '--no-index', '--color=auto', ...gitOptions, '--', mine, reference], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.error) throw new CliError(`npm run diff uses git, which did not run: ${result.error.message}`);
  if (result.status === 0) {
    console.log(green('Your file and the reference are the same.'));
    return 0;
  }
  if (result.status === 1 || result.signal === 'SIGPIPE') return 1; // SIGPIPE: the reader (| head) had enough
  throw new CliError(`git diff failed (exit code ${result.status}).`);
}

async function main(): Promise<number> {
  const { milestone, yes, gitOptions } = parseDiffArgs(process.argv.slice(2));
  if (!(await confirmSpoiler(milestone, { yes, progress: loadProgress(), ask: askOnTerminal() }))) return 0;
  showDiff(milestone, gitOptions);
  return 0; // "they differ" is what the learner asked to see, not a failure
}

if (isMain(import.meta.url)) await runMain(main);
