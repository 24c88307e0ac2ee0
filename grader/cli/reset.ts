// `npm run reset -- N [--yes]`: puts milestone N's starter back as shipped, after backing up your
// version to .progress/backups/<time>/. The starter comes from git: the commit your branch started
// from (the merge base of HEAD and its upstream, else origin/main), so work you committed does not
// count as "the starter".
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { Milestone } from '../manifest.ts';
import { forgetResult, progressFile } from '../../shared/workshop/progress.ts';
import { bold, dim } from '../report/console.ts';
import { CommandError, gitOutput, isMain, parseMilestoneNumber, runCommand } from './shared.ts';

const USAGE = 'Usage: npm run reset -- <1-9> [--yes]';

export interface ShippedCommit {
  commit: string;
  short: string;
  subject: string;
  /** How it was chosen, in words. */
  how: string;
}

/** The repository's top folder, or a CommandError saying why reset cannot work here. */
export function repositoryRoot(cwd: string): string {
  if (gitOutput(['--version'], cwd) === undefined) throw new CommandError('npm run reset takes the starter from git, and git is not installed here.');
  const root = gitOutput(['rev-parse', '--show-toplevel'], cwd);
  if (!root) {
    throw new CommandError(
      `npm run reset takes the starter from git history, and ${cwd} is not a git checkout.\n` +
        'Clone the workshop with git to use it, or copy the file from the workshop repository by hand.',
    );
  }
  return root;
}

/** The commit whose starter files count as "as shipped": where this branch left its upstream. */
export function findShippedCommit(root: string): ShippedCommit {
  if (!gitOutput(['rev-parse', '--verify', '--quiet', 'HEAD'], root)) throw new CommandError('this git checkout has no commits yet, so there is no shipped starter to restore.');
  const upstream = gitOutput(['rev-parse', '--abbrev-ref', '--symbolic-full-name', '@{u}'], root);
  const originMain = gitOutput(['rev-parse', '--verify', '--quiet', 'origin/main^{commit}'], root) ? 'origin/main' : undefined;
  let commit: string | undefined;
  let how: string;
  const base = upstream ?? originMain;
  if (base) {
    commit = gitOutput(['merge-base', 'HEAD', base], root);
    if (!commit) throw new CommandError(`HEAD and ${base} share no history, so there is no shipped starter to restore from.`);
    how = `the merge base of HEAD and ${base}${upstream ? ' (your branch’s upstream)' : ''}`;
  } else {
    commit = gitOutput(['rev-parse', 'HEAD'], root) as string;
    how = 'HEAD: there is no upstream branch and no origin/main, so if you committed your work, this restores what you committed';
  }
  const short = gitOutput(['rev-parse', '--short', commit], root) ?? commit.slice(0, 7);
  const subject = gitOutput(['log', '-1', '--format=%s', commit], root) ?? '';
  return { commit, short, subject, how };
}

/** The files the milestone ships for the learner to edit: its folder at that commit, but the lesson (Markdown). */
export function shippedExerciseFiles(root: string, shipped: ShippedCommit, milestone: Milestone): string[] {
  const folder = `milestones/${milestone.slug}/`;
  const listed = gitOutput(['ls-tree', '-r', '--name-only', shipped.commit, '--', folder], root) ?? '';
  const files = listed.split('\n').filter((file) => file !== '' && !file.endsWith('.md'));
  if (!files.includes(milestone.exercise.file)) {
    throw new CommandError(`${milestone.exercise.file} is not in commit ${shipped.short} (${shipped.how}), so there is no starter to restore. Has this milestone been shipped yet?`);
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

/** Backs up and restores the milestone's changed exercise files. Throws CommandError when it will not. */
export async function resetMilestone(options: ResetOptions): Promise<ResetOutcome> {
  const { root, milestone, out = console.log } = options;
  const shipped = findShippedCommit(root);
  const files = shippedExerciseFiles(root, shipped, milestone);
  const originals = new Map(files.map((file) => [file, shippedContent(root, shipped.commit, file)]));
  const changed = files.filter((file) => {
    const current = path.join(root, file);
    return !fs.existsSync(current) || !fs.readFileSync(current).equals(originals.get(file) as Buffer);
  });
  const where = `commit ${shipped.short} "${shipped.subject}", ${shipped.how}`;
  if (changed.length === 0) {
    out(`Milestone ${milestone.number} is already as shipped (${where}): nothing to reset.`);
    return { reset: [], shipped };
  }

  if (!options.yes) {
    if (!options.ask) {
      throw new CommandError(
        `npm run reset replaces ${changed.join(', ')} with the starter, and asks first; there is no terminal here to answer.\n` +
          `To reset without asking: npm run reset -- ${milestone.number} --yes`,
      );
    }
    out(`This puts back the starter of milestone ${milestone.number}, ${milestone.title}, as shipped in ${where}:`);
    for (const file of changed) out(`  ${file}`);
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
  out(`Restored ${changed.join(', ')} from ${where}.`);
  out(`Next: ${bold(`npm run milestone -- ${milestone.number}`)}`);
  return { reset: changed, backupDir: backedUp.length > 0 ? backupDir : undefined, shipped };
}

async function askOnTerminal(question: string): Promise<boolean> {
  const readline = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await readline.question(question)).trim());
  } finally {
    readline.close();
  }
}

export function parseResetArgs(argv: string[]): { milestone: Milestone; yes: boolean } {
  const yes = argv.includes('--yes') || argv.includes('-y');
  const rest = argv.filter((arg) => arg !== '--yes' && arg !== '-y');
  const unknown = rest.find((arg) => arg.startsWith('-'));
  if (unknown) throw new CommandError(`unknown option ${unknown}. ${USAGE}`, 2);
  if (rest.length > 1) throw new CommandError(`one milestone at a time. ${USAGE}`, 2);
  return { milestone: parseMilestoneNumber(rest[0], USAGE), yes };
}

async function main(): Promise<number> {
  const { milestone, yes } = parseResetArgs(process.argv.slice(2));
  const root = repositoryRoot(process.cwd());
  const ask = process.stdin.isTTY ? askOnTerminal : undefined;
  await resetMilestone({ root, milestone, yes, ask });
  return 0;
}

if (isMain(import.meta.url)) await runCommand(main);
