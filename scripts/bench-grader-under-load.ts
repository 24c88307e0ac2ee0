// `npm run bench:grader -- --under-load [--only 1,3]`: the same verdicts on a busy machine. Grades
// each milestone's in-the-system check through `npm run grade -- N` as a learner runs it (child
// process, watchdog and type check included) with the reference, a known-valid alternative and a
// known-wrong variant, plus milestone 1 with an encode that loops forever: first one after another
// on the machine as it is, then all at once beside 8 CPU burners and 4 processes that write 4 KB and
// fsync in a loop (scripts/shared/machine-load.ts: bounded to 3 minutes, killed at the end, no
// network). Prints a Markdown table of the verdicts idle and loaded; exits 1 when one is not the
// expected one. docs/grader-performance.md records a run.
import os from 'node:os';
import type { Milestone } from '../grader/manifest.ts';
import { startMachineLoad } from './shared/machine-load.ts';
import { asExpected, type CaseVerdict, endlessLoopCase, gradeCase, inTheSystemCases, type VerdictCase } from './shared/verdict-cases.ts';

const LOAD_MS = 180_000;
const say = (line: string) => process.stderr.write(`${line}\n`);
const secs = (ms: number) => `${(ms / 1000).toFixed(0)} s`;
const loadAverage = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

function verdictCell(verdictCase: VerdictCase, verdict: CaseVerdict | undefined): string {
  if (!verdict) return 'not run';
  const mark = asExpected(verdictCase, verdict) ? '' : ' **unexpected**';
  const why = verdict.status === 'pass' ? '' : `: ${(verdict.message ?? '').split('\n')[0]?.slice(0, 90)}`;
  return `${verdict.status} (${secs(verdict.wallMs)})${mark}${why}`;
}

/** Returns the exit code: 0 when every verdict, idle and loaded, is the expected one. */
export async function benchUnderLoad(milestones: Milestone[]): Promise<number> {
  const cases: VerdictCase[] = [];
  for (const milestone of milestones) {
    const checks = await milestone.checks();
    if (checks.some((check) => check.id.endsWith('.in-the-system'))) cases.push(...(await inTheSystemCases(milestone)));
  }
  const first = milestones.find((m) => m.number === 1);
  if (first) cases.push(endlessLoopCase(first));
  say(`under load: ${cases.length} cases; load average ${loadAverage()}`);

  const idle: CaseVerdict[] = [];
  for (const verdictCase of cases) {
    idle.push(await gradeCase(verdictCase));
    say(`  idle: ${verdictCase.check} ${verdictCase.label}: ${idle.at(-1)?.status}`);
  }
  const idleLoad = loadAverage();

  const load = startMachineLoad({ cpuBurners: 8, diskWriters: 4, maxMs: LOAD_MS });
  const started = Date.now();
  let loaded: CaseVerdict[];
  let during = '';
  try {
    say(`loaded: ${load.description}; grading all ${cases.length} at once`);
    const sampler = setInterval(() => (during = loadAverage()), 10_000);
    loaded = await Promise.all(cases.map((verdictCase) => gradeCase(verdictCase, { timeoutMs: LOAD_MS })));
    clearInterval(sampler);
  } finally {
    await load.stop();
  }
  const disk = load.diskStats();
  const loadedMs = Date.now() - started;

  const lines = [
    `Verdicts idle and under load, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC: ${os.cpus().length} cores, Node ${process.version}. ` +
      `Idle: one after another, load average ${idleLoad} after. Loaded: all ${cases.length} at once beside ${load.description} ` +
      `(${disk.fsyncs} fsyncs in ${secs(loadedMs)}, the slowest ${disk.slowestFsyncMs} ms; load average ${during || loadAverage()} during).`,
    '',
    '| Check | Layer | Expected | Idle | Loaded |',
    '| --- | --- | --- | --- | --- |',
    ...cases.map(
      (c, i) =>
        `| ${c.check} | ${c.label.replaceAll('|', '\\|')} | ${c.expected} | ${verdictCell(c, idle[i])} | ${verdictCell(c, loaded[i])} |`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const all = cases.every((c, i) => asExpected(c, idle[i] as CaseVerdict) && asExpected(c, loaded[i] as CaseVerdict));
  return all ? 0 : 1;
}
