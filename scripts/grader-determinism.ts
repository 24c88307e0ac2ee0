// `npm run bench:determinism [-- --rounds 3] [--only 5,6]`
// Same code, same verdict: grades every milestone's reference, known-wrong variants and known-valid
// alternatives `rounds` times each and lists every check whose verdict changed from one round to the
// next. Too slow for `npm test` (about rounds × the self-proof's time), so it runs by hand and
// before a release; docs/grader-performance.md records a run. Exit 1 when any verdict wavered.
import { defineCli, parseOrExit } from '../shared/cli/args.ts';
import { MILESTONES } from '../grader/manifest.ts';
import type { Alternative, Mutant } from '../grader/mutant.ts';
import { gradeLayer, gradeMilestone, prepareEnvironment } from '../grader/runner.ts';

const say = (line: string) => process.stderr.write(`${line}\n`);

const DETERMINISM_CLI = defineCli({
  command: 'npm run bench:determinism',
  synopsis: ['npm run bench:determinism [-- --rounds <n>] [--only <1,4,...>]'],
  summary:
    'Grades the reference, the known-wrong variants and the known-valid alternatives of each milestone n times, and lists every check whose verdict changed between rounds.',
  options: {
    rounds: { type: 'string', value: '<n>', default: '3', description: 'how many times each layer is graded' },
    only: { type: 'string', value: '<1,4,...>', description: 'only these milestones' },
  },
  notes: 'Exit codes: 0 every verdict the same each round, 1 some changed.',
});
const { values } = parseOrExit(DETERMINISM_CLI);
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) parseOrExit(DETERMINISM_CLI, ['--rounds-must-be-a-whole-number']);
const wanted = values.only?.split(',').map(Number);
const milestones = wanted ? MILESTONES.filter((m) => wanted.includes(m.number)) : MILESTONES;

const environment = await prepareEnvironment();
const wavering: string[] = [];
let graded = 0;
const started = Date.now();
try {
  for (const milestone of milestones) {
    const { mutants, alternatives = [] } = (await import(`../grader/milestones/${milestone.slug}/mutants.ts`)) as {
      mutants: Mutant[];
      alternatives?: Alternative[];
    };
    const subjects: Array<{ name: string; grade: () => ReturnType<typeof gradeLayer> }> = [
      { name: 'the reference', grade: () => gradeMilestone(environment, milestone, 'solutions') },
      ...mutants.map((m) => ({ name: `mutant "${m.name}"`, grade: () => gradeLayer(environment, milestone, m.layer) })),
      ...alternatives.map((a) => ({ name: `alternative "${a.name}"`, grade: () => gradeLayer(environment, milestone, a.layer) })),
    ];
    for (const subject of subjects) {
      const verdicts = new Map<string, Set<string>>();
      for (let round = 0; round < rounds; round++) {
        const result = await subject.grade();
        graded++;
        for (const check of result.checks) verdicts.set(check.id, (verdicts.get(check.id) ?? new Set()).add(check.status));
      }
      for (const [id, seen] of verdicts)
        if (seen.size > 1) wavering.push(`milestone ${milestone.number}, ${subject.name}: ${id} was ${[...seen].join(' and ')}`);
    }
    say(`milestone ${milestone.number}: ${subjects.length} layers × ${rounds} rounds`);
  }
} finally {
  await environment.broker.stop();
}
const minutes = ((Date.now() - started) / 60_000).toFixed(1);
if (wavering.length === 0) {
  console.log(
    `Same verdict every round: ${graded} gradings of ${milestones.length} milestone(s), ${rounds} rounds each, in ${minutes} min.`,
  );
} else {
  console.log(
    `${wavering.length} verdict(s) changed between rounds (${graded} gradings, ${minutes} min):\n${wavering.map((line) => `  ${line}`).join('\n')}`,
  );
  process.exitCode = 1;
}
