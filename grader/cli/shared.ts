// What the learner's commands (milestone, reset, diff) share: reading "which milestone", saying a
// problem without a stack trace, and where a milestone stands in the learner's progress.
import { execFileSync } from 'node:child_process';
import { MILESTONES, type Milestone } from '../manifest.ts';
import type { Progress } from '../../shared/workshop/progress.ts';

/** A problem the learner can fix, said in words; the command exits with `exitCode`. */
export class CommandError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'CommandError';
  }
}

/** True when this module is the script node was started with (not imported by a test). */
export function isMain(moduleUrl: string): boolean {
  return moduleUrl === `file://${process.argv[1]}`;
}

/** "6" → milestone 6, with the usage line when it is missing or not a milestone. */
export function parseMilestoneNumber(arg: string | undefined, usage: string): Milestone {
  if (arg === undefined) throw new CommandError(`which milestone? ${usage}`, 2);
  const found = /^\d+$/.test(arg) ? MILESTONES.find((m) => m.number === Number(arg)) : undefined;
  if (!found) throw new CommandError(`there is no milestone "${arg}": choose 1 to ${MILESTONES.length}. ${usage}`, 2);
  return found;
}

export type MilestoneState = { kind: 'passed'; at: string } | { kind: 'partial'; passed: number; total: number } | { kind: 'not-started'; lastRun?: { passed: number; total: number } };

/** Passed; some checks passed on the last run; or nothing passed yet (never graded, or 0 of n). */
export function milestoneState(progress: Progress, milestone: Milestone): MilestoneState {
  const passedAt = progress.passed[milestone.number];
  if (passedAt) return { kind: 'passed', at: passedAt };
  const last = progress.lastRun[milestone.number];
  if (!last) return { kind: 'not-started' };
  const passed = last.passedChecks.length;
  return passed > 0 ? { kind: 'partial', passed, total: last.totalChecks } : { kind: 'not-started', lastRun: { passed, total: last.totalChecks } };
}

/** The first milestone that has not passed, or undefined when all have. */
export function nextMilestone(progress: Progress): Milestone | undefined {
  return MILESTONES.find((m) => !progress.passed[m.number]);
}

/** Runs git and returns its stdout (trimmed), or undefined when it fails (no repository, no such ref). */
export function gitOutput(args: string[], cwd: string): string | undefined {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** Runs `main` and turns a CommandError into its message and exit code (no stack trace). */
export async function runCommand(main: () => Promise<number | void>): Promise<void> {
  try {
    const code = await main();
    if (typeof code === 'number') process.exitCode = code;
  } catch (error) {
    if (error instanceof CommandError) {
      console.error(error.message);
      process.exitCode = error.exitCode;
      return;
    }
    throw error;
  }
}
