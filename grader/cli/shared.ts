// What the learner's commands (milestone, reset, diff, hint, grade) share: the milestone argument
// and --target option, reading "which milestone", and where a milestone stands in the progress. A
// problem is said through shared/cli (args.ts parses every command; errors.ts and run-main.ts say
// whose fault it is and exit with its status).
import { execFileSync } from 'node:child_process';
import { createInterface } from 'node:readline/promises';
import { defineCli, type Cli, type CliOption, type CliSpec } from '../../shared/cli/args.ts';
import { CORE_MILESTONES, MILESTONES, type Milestone } from '../manifest.ts';
import type { Progress } from '../../shared/workshop/progress.ts';

/** The positional argument of the commands that take one milestone. */
export const MILESTONE_ARGUMENT = {
  name: '<1-10>',
  description: `the milestone, 1 to ${MILESTONES.length} (${CORE_MILESTONES.length + 1} and after: optional, after the nine)`,
  max: 1,
} as const;

/** `--target mine|solutions`: grade or demo the learner's file (default) or the reference. */
export const TARGET_OPTION = {
  type: 'string',
  choices: ['mine', 'solutions'],
  default: 'mine',
  description: 'whose layer: yours (milestones/) or the reference (solutions/layers/)',
} as const satisfies CliOption;

/** True when this module is the script node was started with (not imported by a test). */
export function isMain(moduleUrl: string): boolean {
  return moduleUrl === `file://${process.argv[1]}`;
}

/** "6" → milestone 6; a usage error (exit 2, with the command's usage) when missing or not a milestone. */
export function parseMilestoneNumber(arg: string | undefined, cli: Pick<Cli<CliSpec>, 'usageError'>): Milestone {
  if (arg === undefined) throw cli.usageError(`which milestone? Choose 1 to ${MILESTONES.length}.`);
  const found = /^\d+$/.test(arg) ? MILESTONES.find((m) => m.number === Number(arg)) : undefined;
  if (!found) throw cli.usageError(`there is no milestone "${arg}": choose 1 to ${MILESTONES.length}.`);
  return found;
}

export type MilestoneState =
  | { kind: 'passed'; at: string }
  | { kind: 'partial'; passed: number; total: number }
  | { kind: 'not-started'; lastRun?: { passed: number; total: number } };

/** Passed; some checks passed on the last run; or nothing passed yet (never graded, or 0 of n). */
export function milestoneState(progress: Progress, milestone: Milestone): MilestoneState {
  const passedAt = progress.passed[milestone.number];
  if (passedAt) return { kind: 'passed', at: passedAt };
  const last = progress.lastRun[milestone.number];
  if (!last) return { kind: 'not-started' };
  const passed = last.passedChecks.length;
  return passed > 0
    ? { kind: 'partial', passed, total: last.totalChecks }
    : { kind: 'not-started', lastRun: { passed, total: last.totalChecks } };
}

/**
 * The first of the nine that has not passed, or undefined when all nine have: the optional milestones
 * after them are never "next" (the learner asks for them by number, or with --with-optional).
 */
export function nextMilestone(progress: Progress, withOptional = false): Milestone | undefined {
  return (withOptional ? MILESTONES : CORE_MILESTONES).find((m) => !progress.passed[m.number]);
}

/** Runs git and returns its stdout (trimmed), or undefined when it fails (no repository, no such ref). */
export function gitOutput(args: string[], cwd: string): string | undefined {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/**
 * A y/N question on the terminal (anything but y or yes is no), or undefined when stdin is not a
 * terminal: nobody can answer, and the command refuses unless given --yes.
 */
export function askOnTerminal(): ((question: string) => Promise<boolean>) | undefined {
  if (!process.stdin.isTTY) return undefined;
  return async (question) => {
    const readline = createInterface({ input: process.stdin, output: process.stdout });
    try {
      return /^y(es)?$/i.test((await readline.question(question)).trim());
    } finally {
      readline.close();
    }
  };
}

// ── npm run grade's command line, ready for grade.ts to adopt ───────────────────────────────────

export const GRADE_CLI = defineCli({
  command: 'npm run grade',
  synopsis: ['npm run grade [-- <1-10>|all] [--with-optional] [--target mine|solutions] [--json[=<file>]] [--watch] [--restart-my-broker]'],
  summary: `Grades milestones against a live broker and says, check by check, what passes and what to fix.
Without a number: the first milestone you have not passed yet (with --target solutions: all nine).
Milestone 10 is optional: grade it by its number; \`all\` and the next milestone leave it out unless
you add --with-optional.`,
  positionals: { name: '<1-10>|all', description: `a milestone, 1 to ${MILESTONES.length}, or all nine (all ten with --with-optional)` },
  options: {
    target: { ...TARGET_OPTION, description: 'grade your layer (mine) or the reference (solutions: every check passes)' },
    json: {
      type: 'string',
      value: '<file>',
      // `--json 4` is the default file and milestone 4; `--json out.json 4` writes out.json.
      optionalValue: { bare: '.grade-results/results.json', takesNext: (next) => !/^\d+$|^all$/.test(next) },
      description: 'also write the results as JSON, in the Exercism test-runner format',
    },
    'with-optional': {
      type: 'boolean',
      description: 'count the optional milestone after the nine (10, streams) in `all` and in the next milestone',
    },
    watch: { type: 'boolean', description: 'grade again every time you save (Enter grades again too)' },
    'restart-my-broker': {
      type: 'boolean',
      description:
        'milestone 4 may restart your local broker (stop_app/start_app) without asking, when it cannot start a throwaway node of its own',
    },
  },
  notes:
    'Exit codes: 0 every check passes, 1 a check fails (or your file does not load), 2 a wrong command line,\n3 could not judge (no usable broker, a machine too busy: an error, never a fail), 4 a bug in the workshop.',
});

export interface GradeCommandLine {
  which: number | 'all' | 'next';
  target: 'mine' | 'solutions';
  json?: string;
  watch: boolean;
  /** Set (true) only with --with-optional: `all` and the next milestone count the optional milestones too. */
  withOptional?: boolean;
  /** Set (true) only with --restart-my-broker: milestone 4 may restart the learner's own broker without asking. */
  restartMyBroker?: boolean;
}

/** grade.ts's arguments. Throws HelpRequested (--help, exit 0) or UsageError (exit 2). */
export function parseGradeCommandLine(argv: readonly string[]): GradeCommandLine {
  const { values, positionals } = GRADE_CLI.parse(argv);
  const [which] = positionals;
  const args: GradeCommandLine = {
    which: which === undefined ? 'next' : which === 'all' ? 'all' : parseMilestoneNumber(which, GRADE_CLI).number,
    target: values.target,
    watch: values.watch ?? false,
  };
  if (values.json !== undefined) args.json = values.json;
  if (values['restart-my-broker']) args.restartMyBroker = true;
  if (values['with-optional']) args.withOptional = true;
  return args;
}
