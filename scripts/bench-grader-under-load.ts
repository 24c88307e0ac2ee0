// `npm run bench:grader -- --under-load [--only 1,3 | --checks <id,id,...>]`: the same verdicts on a
// busy machine. Grades each milestone's in-the-system check (or, with --checks, each check named)
// through `npm run grade -- N` as a learner runs it (child process, watchdog and type check included)
// with the reference, a known-valid alternative and a known-wrong variant, plus (without --checks)
// milestone 1 with an encode that loops forever: first one after another on the machine as it is,
// then all at once beside 8 CPU burners and 4 processes that write 4 KB and fsync in a loop
// (scripts/shared/machine-load.ts: bounded to 3 minutes, killed at the end, no network). Prints a
// Markdown table of the verdicts idle and loaded; exits 1 when one is not the expected one.
// docs/grader-performance.md records a run.
import os from 'node:os';
import { hasDelayedRetry } from '../shared/broker/broker-features.ts';
import { findBroker } from '../shared/broker/find-broker.ts';
import { ManagementApi } from '../shared/broker/management-api.ts';
import { type Milestone, MILESTONES } from '../grader/manifest.ts';
import { startMachineLoad } from './shared/machine-load.ts';
import {
  asExpected,
  type CaseVerdict,
  checkCases,
  endlessLoopCase,
  gradeCase,
  inTheSystemCases,
  type VerdictCase,
} from './shared/verdict-cases.ts';

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

/** The default cases: each milestone's in-the-system check, and milestone 1's endless loop. */
async function inTheSystemOf(milestones: Milestone[]): Promise<VerdictCase[]> {
  const cases: VerdictCase[] = [];
  for (const milestone of milestones) {
    const checks = await milestone.checks();
    if (checks.some((check) => check.id.endsWith('.in-the-system'))) cases.push(...(await inTheSystemCases(milestone)));
  }
  const first = milestones.find((m) => m.number === 1);
  if (first) cases.push(endlessLoopCase(first));
  return cases;
}

/** The version of the broker the gradings will find, from its management API, as the checks read it. */
async function rabbitmqVersion(): Promise<string> {
  const broker = await findBroker();
  try {
    return (await new ManagementApi(broker.management).overview()).rabbitmq_version;
  } finally {
    await broker.stop();
  }
}

/** --checks: the cases of each check named (`02.headers-route`: milestone 2's), for this broker. */
async function namedChecks(ids: string[], rabbitmq: string): Promise<VerdictCase[]> {
  const cases: VerdictCase[] = [];
  for (const id of ids) {
    const milestone = MILESTONES.find((m) => id.startsWith(`${String(m.number).padStart(2, '0')}.`));
    const known = (await milestone?.checks())?.map((check) => check.id) ?? [];
    if (!milestone || !known.includes(id))
      throw new Error(`--checks: there is no check ${id}${milestone ? ` (milestone ${milestone.number} has ${known.join(', ')})` : ''}`);
    cases.push(...(await checkCases(milestone, id, { delayedRetry: hasDelayedRetry(rabbitmq) })));
  }
  return cases;
}

/** Returns the exit code: 0 when every verdict, idle and loaded, is the expected one. `checks`: grade these instead of the milestones' in-the-system checks. */
export async function benchUnderLoad(milestones: Milestone[], checks?: string[]): Promise<number> {
  const rabbitmq = checks ? await rabbitmqVersion() : undefined;
  const cases = checks ? await namedChecks(checks, rabbitmq as string) : await inTheSystemOf(milestones);
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
    // Each grading and the load listen for this process's exit (to kill what they started): one listener each.
    process.setMaxListeners(Math.max(process.getMaxListeners(), cases.length + 2));
    const sampler = setInterval(() => (during = loadAverage()), 10_000);
    loaded = await Promise.all(cases.map((verdictCase) => gradeCase(verdictCase, { timeoutMs: LOAD_MS })));
    clearInterval(sampler);
  } finally {
    await load.stop();
  }
  const disk = load.diskStats();
  const loadedMs = Date.now() - started;

  const lines = [
    `Verdicts idle and under load, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC: ${os.cpus().length} cores, Node ${process.version}${rabbitmq ? `, RabbitMQ ${rabbitmq}` : ''}. ` +
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
