// `npm run milestone`            where you are: the nine milestones, which pass, which is next (and the optional tenth).
// `npm run milestone -- N`       milestone N's brief, then its demo with your layer on a real broker.
//   --target solutions           run the demo with the reference layer instead of yours
//   --no-demo                    the brief only (no broker needed)
import fs from 'node:fs';
import { defineCli, runMain } from '../../shared/cli/args.ts';
import { EnvironmentError, kindOf } from '../../shared/cli/errors.ts';
import { describeError } from '../../shared/log.ts';
import { CORE_MILESTONES, type Milestone, OPTIONAL_MILESTONES } from '../manifest.ts';
import { generatedBlock } from '../lesson-blocks.ts';
import { loadProgress, type Progress } from '../../shared/workshop/progress.ts';
import { bold, dim, green, yellow } from '../report/console.ts';
import type { Target } from '../runner.ts';
import { type DemoOutcome, runMilestoneDemo } from './run-demo.ts';
import {
  isMain,
  MILESTONE_ARGUMENT,
  milestoneState,
  nextMilestone,
  parseMilestoneNumber,
  TARGET_OPTION,
  type MilestoneState,
} from './shared.ts';

export const MILESTONE_CLI = defineCli({
  command: 'npm run milestone',
  synopsis: ['npm run milestone', 'npm run milestone -- <1-10> [--target mine|solutions] [--no-demo]'],
  summary: `Without a number: the nine milestones, which pass, and the next one (then the optional tenth).
With a number: that milestone's brief (goal, file to edit, checks, hints), then its demo with your
layer on a real broker.`,
  positionals: MILESTONE_ARGUMENT,
  options: {
    target: { ...TARGET_OPTION, description: 'run the demo with your layer (mine) or the reference (solutions)' },
    'no-demo': { type: 'boolean', description: 'the brief only, no demo (no broker needed)' },
  },
  notes: 'Exit codes: 0 done, 1 the demo failed, 2 a wrong command line, 3 no usable broker for the demo.',
});

export interface MilestoneArgs {
  milestone?: Milestone;
  target: Target;
  demo: boolean;
}

/** Throws HelpRequested (--help) or UsageError (exit 2). */
export function parseMilestoneArgs(argv: string[]): MilestoneArgs {
  const { values, positionals } = MILESTONE_CLI.parse(argv);
  const [number] = positionals;
  const args: MilestoneArgs = { target: values.target, demo: !values['no-demo'] };
  if (number !== undefined) args.milestone = parseMilestoneNumber(number, MILESTONE_CLI);
  return args;
}

// ── where you are ────────────────────────────────────────────────────────────────────────────────

function mark(state: MilestoneState): string {
  if (state.kind === 'passed') return green('✓');
  if (state.kind === 'partial') return yellow('◐');
  return dim('·');
}

function stateNote(state: MilestoneState): string {
  if (state.kind === 'passed') return green('passed');
  if (state.kind === 'partial') return yellow(`${state.passed}/${state.total} checks passed last time`);
  return state.lastRun ? dim(`not passing yet (0/${state.lastRun.total} last time)`) : dim('not started');
}

/**
 * The nine milestones with their status, a progress bar and the next step, like rustlings' list; the
 * optional ones after them are listed apart ("Going further") and count in neither the bar nor "next".
 */
export function renderProgress(progress: Progress): string {
  const passed = CORE_MILESTONES.filter((m) => progress.passed[m.number]).length;
  const next = nextMilestone(progress);
  const width = 27;
  const filled = Math.round((passed / CORE_MILESTONES.length) * width);
  const bar = `${'#'.repeat(filled)}${filled < width ? '>' : ''}${'-'.repeat(Math.max(0, width - filled - 1))}`;
  const titleWidth = Math.max(...CORE_MILESTONES.map((m) => m.title.length));
  const lines = [bold('RabbitMQ order workshop: nine milestones'), ''];
  const row = (m: Milestone) => {
    const state = milestoneState(progress, m);
    const pointer = m === next ? bold('→') : ' ';
    return `${pointer} ${mark(state)} ${String(m.number).padStart(2)}  ${m.title.padEnd(titleWidth)}  ${stateNote(state)}`;
  };
  for (const m of CORE_MILESTONES) lines.push(row(m));
  if (OPTIONAL_MILESTONES.length > 0)
    lines.push('', dim('Going further (optional, not counted in the nine):'), ...OPTIONAL_MILESTONES.map(row));
  lines.push('', `Progress: [${bar}] ${passed}/${CORE_MILESTONES.length}`, '');
  if (next) {
    lines.push(`Current milestone: ${next.exercise.file}`, `Next: ${bold(`npm run milestone -- ${next.number}`)}`);
  } else {
    lines.push(green('🎉 All nine milestones pass.'), `Run the whole system on your own layers: ${bold('npm start -- --layers mine')}`);
    const further = OPTIONAL_MILESTONES.find((m) => !progress.passed[m.number]);
    if (further) lines.push(`Going further: ${bold(`npm run milestone -- ${further.number}`)} (${further.title})`);
  }
  return lines.join('\n');
}

// ── the brief ────────────────────────────────────────────────────────────────────────────────────

export function readmePath(milestone: Milestone): string {
  return `milestones/${milestone.slug}/README.md`;
}

/** A generated block of the lesson (Markdown) as terminal text: bold for **…**, no backticks, tables in columns. */
export function blockForTerminal(markdown: string): string[] {
  const plain = (text: string) => text.replace(/\*\*(.+?)\*\*/g, (_, inner: string) => bold(inner)).replace(/`([^`]*)`/g, '$1');
  const lines = markdown.split('\n').filter((line) => !/^\| ?---/.test(line));
  const rows = lines.map((line) =>
    /^\| (.*) \|$/
      .exec(line)?.[1]
      ?.split(' | ')
      .map((cell) => plain(cell.replace(/\\\|/g, '|'))),
  );
  const widths: number[] = [];
  for (const row of rows) row?.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  // Every column but the last is padded: the last one (the long one) runs on.
  return lines.map((line, i) => {
    const row = rows[i];
    return row ? `  ${row.map((cell, j) => (j < row.length - 1 ? cell.padEnd(widths[j] ?? 0) : cell)).join('  ')}` : plain(line);
  });
}

/** Number, title, goal, what to edit and read, the lesson's tasks and checks (its generated parts), and where hints are. */
export async function renderBrief(milestone: Milestone, progress: Progress): Promise<string> {
  const n = milestone.number;
  const readme = readmePath(milestone);
  const lines = [
    bold(
      milestone.optional
        ? `Milestone ${n} (optional, after the nine): ${milestone.title}`
        : `Milestone ${n} of ${CORE_MILESTONES.length}: ${milestone.title}`,
    ),
    milestone.goal,
    '',
    `  Edit:   ${milestone.exercise.file}  ${dim(`(it exports \`${milestone.exercise.exportName}\`)`)}`,
    `  Read:   ${readme}${fs.existsSync(readme) ? '' : yellow('  (not written yet)')}`,
    `  Status: ${mark(milestoneState(progress, milestone))} ${stateNote(milestoneState(progress, milestone))}`,
    '',
  ];
  // The lesson's generated parts, as the README shows them (npm run docs:lessons keeps them true).
  const lesson = fs.existsSync(readme) ? fs.readFileSync(readme, 'utf8') : '';
  const tasks = generatedBlock(lesson, 'tasks');
  const grading = generatedBlock(lesson, 'grading');
  if (tasks !== undefined && grading !== undefined) {
    lines.push(bold('Your tasks'), ...blockForTerminal(tasks), '', bold('How you are graded'), ...blockForTerminal(grading));
  } else {
    try {
      const checks = await milestone.checks();
      lines.push(`Graded on (${bold(`npm run grade -- ${n}`)}):`, ...checks.map((check, i) => `  ${i + 1}. ${check.name}`));
    } catch (error) {
      lines.push(yellow(`The checks of this milestone do not load yet (${describeError(error)}).`));
    }
  }
  lines.push('', `Stuck? ${bold(`npm run hint -- ${n}`)} gives a hint, one level at a time.`);
  return lines.join('\n');
}

// ── the command ──────────────────────────────────────────────────────────────────────────────────

async function main(): Promise<number> {
  const args = parseMilestoneArgs(process.argv.slice(2));
  const progress = loadProgress();
  if (!args.milestone) {
    console.log(renderProgress(progress));
    return 0;
  }
  const milestone = args.milestone;
  console.log(await renderBrief(milestone, progress));
  const gradeCommand = `npm run grade -- ${milestone.number}${args.target === 'solutions' ? ' --target solutions' : ''}`;
  if (!args.demo) {
    console.log(`\nNext: read ${readmePath(milestone)}, edit ${milestone.exercise.file}, then ${bold(gradeCommand)}`);
    return 0;
  }
  console.log('');
  let result: DemoOutcome;
  try {
    result = await runMilestoneDemo(milestone, args.target);
  } catch (error) {
    // No usable broker: exit 3 through runMain, saying what could not be done.
    if (kindOf(error) === 'environment') throw new EnvironmentError(`cannot run the demo.\n${describeError(error)}`, { cause: error });
    throw error;
  }
  console.log(`\nNext: ${bold(gradeCommand)} grades it check by check (add --watch to re-grade on save).`);
  return result.ok ? 0 : 1;
}

if (isMain(import.meta.url)) {
  await runMain(main);
  process.exit(); // a learner's layer may leave a timer or a consumer behind: the demo is over
}
