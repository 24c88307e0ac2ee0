// `npm run hint [-- N]`: the next hint of milestone N (default: the first one not passed yet), one
// level at a time: the concept, then the API to use, then the hard parts shown on another example (they
// narrow, never solve: grader/tests/hint.test.ts holds them to it). The level reached is kept in
// .progress/hints.json, so each call shows what was revealed before and one more.
import fs from 'node:fs';
import path from 'node:path';
import { defineCli, runMain } from '../../shared/cli/args.ts';
import { loadProgress, progressFile } from '../../shared/workshop/progress.ts';
import { MILESTONES, type Milestone } from '../manifest.ts';
import { bold, dim } from '../report/console.ts';
import { isMain, MILESTONE_ARGUMENT, nextMilestone, parseMilestoneNumber } from './shared.ts';

export const HINT_CLI = defineCli({
  command: 'npm run hint',
  synopsis: ['npm run hint [-- <1-10>] [--again]'],
  summary: `Shows the next hint of a milestone, one level at a time (the concept, the API, then the hard part on another example).
Without a number: the first milestone you have not passed yet.`,
  positionals: MILESTONE_ARGUMENT,
  options: { again: { type: 'boolean', description: 'show the hints revealed so far, without revealing another' } },
});

const LEVEL_NAMES = ['the concept', 'the API to use', 'the hard part, on another example', 'another hard part, on another example'];

/** Next to progress.json, in the same folder. */
function hintsFile(): string {
  return path.join(path.dirname(progressFile()), 'hints.json');
}

function loadLevels(): Record<string, number> {
  try {
    return JSON.parse(fs.readFileSync(hintsFile(), 'utf8')) as Record<string, number>;
  } catch {
    return {};
  }
}

function saveLevels(levels: Record<string, number>): void {
  fs.mkdirSync(path.dirname(hintsFile()), { recursive: true });
  fs.writeFileSync(hintsFile(), `${JSON.stringify(levels, null, 2)}\n`);
}

/** Reveals one more level (unless `again`) and renders every level revealed so far. */
export async function revealHint(milestone: Milestone, again: boolean): Promise<string> {
  const hints = await milestone.hints();
  const levels = loadLevels();
  const before = levels[milestone.number] ?? 0;
  const shown = again ? Math.max(before, 1) : Math.min(before + 1, hints.length);
  levels[milestone.number] = shown;
  saveLevels(levels);
  const lines = [bold(`Milestone ${milestone.number}: ${milestone.title} — hint ${shown} of ${hints.length}`), ''];
  hints.slice(0, shown).forEach((hint, i) => lines.push(`💰 ${i + 1}. ${dim(`(${LEVEL_NAMES[i] ?? 'more'})`)} ${hint}`));
  const left = hints.length - shown;
  lines.push('');
  if (left > 0) lines.push(`${left} more: run ${bold(`npm run hint -- ${milestone.number}`)} again for the next.`);
  else if (before >= hints.length && !again)
    lines.push('That was the last hint. The lesson (README.md) has the worked examples; `npm run diff` shows the reference.');
  else lines.push('That is every hint of this milestone.');
  return lines.join('\n');
}

async function main(): Promise<number> {
  const { values, positionals } = HINT_CLI.parse(process.argv.slice(2));
  const milestone =
    positionals[0] !== undefined
      ? parseMilestoneNumber(positionals[0], HINT_CLI)
      : (nextMilestone(loadProgress()) ?? nextMilestone(loadProgress(), true) ?? MILESTONES[MILESTONES.length - 1]!);
  console.log(await revealHint(milestone, values.again ?? false));
  return 0;
}

if (isMain(import.meta.url)) await runMain(main);
