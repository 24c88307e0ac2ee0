// `npm run reset -- N [--yes]`: puts milestone N's starter back as shipped, after backing up your
// version to .progress/backups/<time>/. The starter comes from git: the commit your branch started
// from (the merge base of HEAD and its upstream, else origin/main), so work you committed does not
// count as "the starter".
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CliError, defineCli, runMain } from '../../shared/cli/args.ts';
import type { Milestone } from '../manifest.ts';
import { forgetResult, progressFile } from '../../shared/workshop/progress.ts';
import { bold, dim } from '../report/console.ts';
import { askOnTerminal, gitOutput, isMain, MILESTONE_ARGUMENT, parseMilestoneNumber } from './shared.ts';

export const RESET_CLI = defineCli({
  command: 'npm run reset',
  synopsis: ['npm run reset -- <1-10> [--yes]'],
  summary: `Puts the starter of milestone N back as shipped, after copying your version to
.progress/backups/<time>/. It asks first.`,
  positionals: MILESTONE_ARGUMENT,
  options: { yes: { type: 'boolean', short: 'y', description: 'do not ask first' } },
  notes: 'Without a terminal to answer (a script, CI), it refuses unless given --yes (exit 1).',
});

export interface ShippedCommit {
  commit: string;
  short: string;
  subject: string;
  /** How it was chosen, in git's words (for the curious and for tests; not printed). */
  how: string;
  /**
   * True when no upstream is known, so "as shipped" falls back to the learner's own last commit:
   * the one case the learner is told about.
   */
  fallback: boolean;
}

/** The repository's top folder, or a CliError saying why reset cannot work here. */
export function repositoryRoot(cwd: string): string {
  if (gitOutput(['--version'], cwd) === undefined)
    throw new CliError('npm run reset takes the starter from git, and git is not installed here.');
  const root = gitOutput(['rev-parse', '--show-toplevel'], cwd);
  if (!root) {
    throw new CliError(
      `npm run reset takes the starter from git history, and ${cwd} is not a git checkout.\n` +
        'Clone the workshop with git to use it, or copy the file from the workshop repository by hand.',
    );
  }
  return root;
}

/** The commit whose starter files count as "as shipped": where this branch left its upstream. */
export function findShippedCommit(root: string): ShippedCommit {
  if (!gitOutput(['rev-parse', '--verify', '--quiet', 'HEAD'], root))
    throw new CliError('this git checkout has no commits yet, so there is no shipped starter to restore.');
  const upstream = gitOutput(['rev-parse', '--abbrev-ref', '--symbolic-full-name', '@{u}'], root);
  const originMain = gitOutput(['rev-parse', '--verify', '--quiet', 'origin/main^{commit}'], root) ? 'origin/main' : undefined;
  let commit: string | undefined;
  let how: string;
  let fallback = false;
  const base = upstream ?? originMain;
  if (base) {
    commit = gitOutput(['merge-base', 'HEAD', base], root);
    if (!commit) throw new CliError(`your branch and ${base} share no history, so there is no shipped starter to restore from.`);
    how = `the merge base of HEAD and ${base}${upstream ? ' (your branch’s upstream)' : ''}`;
  } else {
    commit = gitOutput(['rev-parse', 'HEAD'], root) as string;
    how = 'HEAD: there is no upstream branch and no origin/main, so if you committed your work, this restores what you committed';
    fallback = true;
  }
  const short = gitOutput(['rev-parse', '--short', commit], root) ?? commit.slice(0, 7);
  const subject = gitOutput(['log', '-1', '--format=%s', commit], root) ?? '';
  return { commit, short, subject, how, fallback };
}

/** The files the milestone ships for the learner to edit: its folder at that commit, but the lesson (Markdown). */
export function shippedExerciseFiles(root: string, shipped: ShippedCommit, milestone: Milestone): string[] {
  const folder = `milestones/${milestone.slug}/`;
  const listed = gitOutput(['ls-tree', '-r', '--name-only', shipped.commit, '--', folder], root) ?? '';
  const files = listed.split('\n').filter((file) => file !== '' && !file.endsWith('.md'));
  if (!files.includes(milestone.exercise.file)) {
    throw new CliError(
      `${milestone.exercise.file} is not in the workshop as shipped, so there is no starter to restore. Has this milestone been shipped yet?`,
    );
  }
  return files;
}

function shippedContent(root: string, commit: string, file: string): Buffer {
  return execFileSync('git', ['show', `${commit}:${file}`], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
}

export interface ResetOptions {
  root: string;
  milestone: Milestone;
  /** --yes: do not ask. */
  yes: boolean;
  /** Asks a y/N question; undefined when nobody can answer (no terminal). */
  ask?: (question: string) => Promise<boolean>;
  out?: (line: string) => void;
  now?: Date;
}

export interface ResetOutcome {
  reset: string[];
  backupDir?: string;
  shipped: ShippedCommit;
}

/** Backs up and restores the milestone's changed exercise files. Throws CliError when it will not. */
export async function resetMilestone(options: ResetOptions): Promise<ResetOutcome> {
  const { root, milestone, out = console.log } = options;
  const shipped = findShippedCommit(root);
  const files = shippedExerciseFiles(root, shipped, milestone);
  const originals = new Map(files.map((file) => [file, shippedContent(root, shipped.commit, file)]));
  const changed = files.filter((file) => {
    const current = path.join(root, file);
    return !fs.existsSync(current) || !fs.readFileSync(current).equals(originals.get(file) as Buffer);
  });
  const caveat = shipped.fallback
    ? dim('(This copy of the workshop does not know where it was cloned from, so "as shipped" means as of your last commit.)')
    : undefined;
  if (changed.length === 0) {
    out(`Milestone ${milestone.number} is already as shipped: nothing to reset.`);
    return { reset: [], shipped };
  }

  if (!options.yes) {
    if (!options.ask) {
      throw new CliError(
        `npm run reset replaces ${changed.join(', ')} with the starter, and asks first; there is no terminal here to answer.\n` +
          `To reset without asking: npm run reset -- ${milestone.number} --yes`,
      );
    }
    out(`This puts back the starter of milestone ${milestone.number}, ${milestone.title}, as shipped:`);
    for (const file of changed) out(`  ${file}`);
    if (caveat) out(caveat);
    out(dim('Your version is copied to .progress/backups/ first.'));
    if (!(await options.ask(`Reset milestone ${milestone.number}? [y/N] `))) {
      out('Nothing changed.');
      return { reset: [], shipped };
    }
  }

  const stamp = (options.now ?? new Date()).toISOString().replace(/[:.]/g, '-');
  const backupDir = path.join(path.dirname(path.resolve(root, progressFile())), 'backups', stamp);
  const backedUp: string[] = [];
  for (const file of changed) {
    const current = path.join(root, file);
    if (!fs.existsSync(current)) continue; // deleted: nothing of yours to keep
    const copy = path.join(backupDir, file);
    fs.mkdirSync(path.dirname(copy), { recursive: true });
    fs.copyFileSync(current, copy);
    backedUp.push(path.relative(root, copy));
  }
  for (const file of changed) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), originals.get(file) as Buffer);
  }
  forgetResult(milestone.number);

  for (const copy of backedUp) out(`Your version is backed up in ${copy}`);
  out(`Restored the starter of milestone ${milestone.number} as shipped: ${changed.join(', ')}.`);
  if (caveat) out(caveat);
  out(`Next: ${bold(`npm run milestone -- ${milestone.number}`)}`);
  return { reset: changed, backupDir: backedUp.length > 0 ? backupDir : undefined, shipped };
}

/** Throws HelpRequested (--help) or UsageError (exit 2). */
export function parseResetArgs(argv: string[]): { milestone: Milestone; yes: boolean } {
  const { values, positionals } = RESET_CLI.parse(argv);
  return { milestone: parseMilestoneNumber(positionals[0], RESET_CLI), yes: values.yes ?? false };
}

async function main(): Promise<number> {
  const { milestone, yes } = parseResetArgs(process.argv.slice(2));
  const root = repositoryRoot(process.cwd());
  await resetMilestone({ root, milestone, yes, ask: askOnTerminal() });
  return 0;
}

if (isMain(import.meta.url)) await runMain(main);
