// `npm run bench:grader [-- --rounds 3] [--only 1,4] [--cli-runs 3] [--no-cli] [--phases] [--under-load [--checks <ids>]]`
// How long grading takes: in one process (one broker lookup), every milestone graded with the
// reference, `rounds` times, then one learner-style `npm run grade -- all --target solutions` as a
// child process, end to end. --phases first times the pieces a check is made of (a vhost, a
// connection, services). Progress goes to stderr, Markdown tables to stdout. --under-load instead
// compares verdicts idle and on a busy machine (bench-grader-under-load.ts), of the in-the-system
// checks or, with --checks <id,id,...>, of the checks named.
// docs/grader-performance.md records the budgets and a run of this.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import amqp from 'amqplib';
import { withVhost } from '../shared/broker/broker-url.ts';
import { defineCli, exitWith } from '../shared/cli/args.ts';
import { silentLogger } from '../shared/log.ts';
import { startSystem } from '../solutions/system.ts';
import type { GradingEnvironment } from '../grader/context.ts';
import { CORE_MILESTONES, MILESTONES, type Milestone } from '../grader/manifest.ts';
import { gradeMilestone, prepareEnvironment, type Status } from '../grader/runner.ts';
import { benchUnderLoad } from './bench-grader-under-load.ts';

/** Grading all nine, one after another, should take at most this (docs/grader-performance.md). */
const ALL_BUDGET_MS = 60_000;

interface Sample {
  ms: number;
  status: Status;
  checks: number;
  slowest?: { id: string; ms: number };
}

interface MilestoneFigures {
  milestone: Milestone;
  /** Why it was not measured (its checks do not exist yet). */
  missing?: string;
  samples: Sample[];
}

/** Saves timed with --watch. */
const WATCH_SAVES = 3;
const say = (line: string) => process.stderr.write(`${line}\n`);
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function stats(values: number[]): { min: number; median: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
  return { min: sorted[0] as number, median, max: sorted.at(-1) as number };
}

const BENCH_CLI = defineCli({
  command: 'npm run bench:grader',
  synopsis: [
    'npm run bench:grader [-- --rounds <n>] [--only <n,n,...>] [--cli-runs <n>] [--no-cli] [--phases]',
    'npm run bench:grader -- --under-load [--only <n,n,...> | --checks <id,id,...>]',
  ],
  summary: `How long grading takes: every milestone graded with the reference in one process, <n> times, then
one \`npm run grade -- all --target solutions\` as a child process. Progress on stderr, Markdown on stdout.`,
  options: {
    rounds: { type: 'string', value: '<n>', default: '3', description: 'how many times to grade each milestone' },
    only: { type: 'string', value: '<n,n,...>', description: 'only these milestones, e.g. 1,4' },
    'cli-runs': {
      type: 'string',
      value: '<n>',
      default: '1',
      description: 'how many times to run each npm run grade -- N (starter and reference, in turn); the tables give medians',
    },
    'no-cli': { type: 'boolean', description: 'skip the learner-style runs: npm run grade -- N (starter and reference) and -- all' },
    phases: { type: 'boolean', description: 'first time the pieces a check is made of (a vhost, a connection, services)' },
    'under-load': {
      type: 'boolean',
      description:
        'instead: the in-the-system verdicts (reference, a valid and a wrong variant, an endless loop) through npm run grade, idle and beside 8 CPU burners and 4 fsync writers (--only: default 1,3)',
    },
    checks: {
      type: 'string',
      value: '<id,id,...>',
      description:
        'with --under-load: these checks instead (e.g. 02.headers-route,06.delayed-retry), each with the reference, a valid and a wrong variant; one that needs a newer broker must say so',
    },
  },
  notes: 'docs/grader-performance.md records the budgets and a run of this.',
});

function parseBenchArgs(argv: string[]): {
  rounds: number;
  only: Milestone[];
  cli: boolean;
  cliRuns: number;
  phases: boolean;
  underLoad: boolean;
  checks?: string[];
} {
  const { values } = BENCH_CLI.parse(argv);
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw BENCH_CLI.usageError('--rounds takes a whole number, 1 or more');
  const wanted = values.only?.split(',').map(Number);
  const unknown = wanted?.filter((n) => !MILESTONES.some((m) => m.number === n));
  if (unknown?.length) throw BENCH_CLI.usageError(`--only takes milestone numbers, 1 to ${MILESTONES.length}, not ${values.only}`);
  const underLoad = values['under-load'] ?? false;
  if (values.checks !== undefined && !underLoad) throw BENCH_CLI.usageError('--checks goes with --under-load');
  if (values.checks !== undefined && values.only !== undefined) throw BENCH_CLI.usageError('--checks and --only: one or the other');
  const checks = values.checks?.split(',').filter(Boolean);
  if (checks?.length === 0) throw BENCH_CLI.usageError('--checks takes check ids, e.g. 02.headers-route,06.delayed-retry');
  // Without --only: the nine (the optional milestone 10 is benchmarked only when named, as `grade -- all` leaves it out).
  const only = MILESTONES.filter((m) => (wanted ?? (underLoad ? [1, 3] : CORE_MILESTONES.map((c) => c.number))).includes(m.number));
  const cliRuns = Number(values['cli-runs']);
  if (!Number.isInteger(cliRuns) || cliRuns < 1) throw BENCH_CLI.usageError('--cli-runs takes a whole number, 1 or more');
  return { rounds, only, cli: !values['no-cli'], cliRuns, phases: values.phases ?? false, underLoad, ...(checks ? { checks } : {}) };
}

async function timed<T>(work: () => Promise<T>): Promise<[number, T]> {
  const started = performance.now();
  const value = await work();
  return [performance.now() - started, value];
}

/** What one check is made of, each timed `times` times: the figures behind "what dominates". */
async function timePhases(environment: GradingEnvironment, times = 5): Promise<string[]> {
  const { api, broker } = environment;
  const rows: Array<[string, number[]]> = [];
  const record = (label: string, ms: number) => {
    const row = rows.find(([l]) => l === label) ?? (rows.push([label, []]), rows.at(-1) as [string, number[]]);
    row[1].push(ms);
  };
  for (let i = 0; i < times; i++) {
    const vhost = `bench-phases-${process.pid}-${i}`;
    const [create] = await timed(() => api.createVhost(vhost));
    record('create a vhost and grant permissions (management API)', create);
    const url = withVhost(broker.url, vhost);
    const [connectMs, connection] = await timed(() => amqp.connect(url));
    record('open an AMQP connection', connectMs);
    await connection.close();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-phases-'));
    const [oneMs, one] = await timed(() => startSystem({ brokerUrl: url, dataDir, services: ['inventory'], logFor: () => silentLogger }));
    record('start one service in-process (topology, consumers)', oneMs);
    const [stopOneMs] = await timed(() => one.stop());
    record('stop it', stopOneMs);
    const [remove] = await timed(() => api.deleteVhost(vhost));
    record('delete the vhost', remove);
    // All six on a fresh vhost of their own, so they declare the topology from scratch too.
    const fresh = `${vhost}-all`;
    await api.createVhost(fresh);
    const allDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-phases-'));
    const [allMs, all] = await timed(() =>
      startSystem({ brokerUrl: withVhost(broker.url, fresh), dataDir: allDir, logFor: () => silentLogger }),
    );
    record('start all six services in-process', allMs);
    const [stopAllMs] = await timed(() => all.stop());
    record('stop them', stopAllMs);
    await api.deleteVhost(fresh);
    for (const dir of [dataDir, allDir]) fs.rmSync(dir, { recursive: true, force: true });
  }
  say('  phases: vhosts, connections, services timed');
  // No broker restart here: a throwaway node takes seconds to boot, which would swamp these phases.
  // Milestone 4's restart check is timed as a whole, in the table above (its slowest check).
  const fmt = (ms: number) => (ms < 1000 ? `${Math.round(ms)} ms` : secs(ms));
  return [
    '| Phase | n | min | median | max |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map(([label, values]) => {
      const { min, median, max } = stats(values);
      return `| ${label} | ${values.length} | ${fmt(min)} | ${fmt(median)} | ${fmt(max)} |`;
    }),
  ];
}

/** The check that took longest in most rounds, with its median time. */
function slowestCheck(samples: Sample[]): string {
  const byId = new Map<string, number[]>();
  for (const { slowest } of samples) if (slowest) byId.set(slowest.id, [...(byId.get(slowest.id) ?? []), slowest.ms]);
  const [id, times] = [...byId.entries()].sort((a, b) => b[1].length - a[1].length)[0] ?? [];
  return id && times ? `${id} ${secs(stats(times).median)}` : '—';
}

/**
 * When the command returned, as a learner's terminal sees it: npm's exit. Not the end of its output
 * pipes: a grading child that has sent its verdict may still delete its vhosts for up to 0.8 s, and
 * holds the pipes it inherited until then, after the prompt is back (grading-worker.ts).
 */
function exitTime(child: ReturnType<typeof spawn>): Promise<number> {
  return new Promise((resolve) => child.once('exit', () => resolve(Date.now())));
}

/** Learner-style: `npm run grade -- all --target solutions` as its own process, timed from spawn to exit. */
function timeGradeAll(): Promise<{ ms: number; code: number | null; tail: string }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn('npm', ['run', 'grade', '--', 'all', '--target', 'solutions'], {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = exitTime(child);
    child.once(
      'close',
      (code) => void exited.then((at) => resolve({ ms: at - started, code, tail: output.trim().split('\n').slice(-3).join(' / ') })),
    );
  });
}

/**
 * As a learner runs it: `npm run grade -- N` in a process of its own, the grading child process and
 * the type check included. With the starter as shipped (every check fails: the failing-run budget)
 * and with the reference. Reports the time the grader prints for the milestone, and the wall time.
 */
function timeGradeOne(
  number: number,
  target: 'mine' | 'solutions',
): Promise<{ reportedMs?: number; wallMs: number; checksMs: number; code: number | null }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const progress = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-progress-'));
    const args = ['run', 'grade', '--', String(number), ...(target === 'solutions' ? ['--target', 'solutions'] : [])];
    const child = spawn('npm', args, {
      env: { ...process.env, NO_COLOR: '1', WORKSHOP_PROGRESS_DIR: progress },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = exitTime(child);
    child.once(
      'close',
      (code) =>
        void exited.then((at) => {
          fs.rmSync(progress, { recursive: true, force: true });
          const reported = /checks pass \((\d+(?:\.\d+)?) (ms|s)\)/.exec(output);
          const reportedMs = reported ? Number(reported[1]) * (reported[2] === 's' ? 1000 : 1) : undefined;
          resolve({ reportedMs, wallMs: at - started, checksMs: checksTime(number, output), code });
        }),
    );
  });
}

/** A duration as the report prints it: "916 ms" or "1.2 s". */
const printedMs = (value: string, unit: string) => Number(value) * (unit === 's' ? 1000 : 1);

/**
 * The checks' own time in a grade's output: the sum of the durations on its check lines, or for a
 * milestone that runs its checks at once (concurrentChecks), the longest. What the command adds
 * around them (npm, tsx, finding the broker, the child process, the type check) is the rest.
 */
function checksTime(number: number, output: string): number {
  const durations = [...output.matchAll(/^ {2}[✓✗!] .* (\d+(?:\.\d+)?) (ms|s)$/gm)].map(([, value, unit]) =>
    printedMs(value ?? '0', unit ?? 'ms'),
  );
  return MILESTONES.find((m) => m.number === number)?.concurrentChecks ? Math.max(0, ...durations) : durations.reduce((a, b) => a + b, 0);
}

/**
 * --watch as a learner uses it: `npm run grade -- N --watch --target solutions`, then `saves` saves of
 * the exercise file (its modification time set to now; its content untouched), each timed from the
 * save to the milestone's tally, less the checks' own time: what a re-grade adds around its checks.
 */
async function timeWatchRegrades(milestone: Milestone, saves: number): Promise<number[]> {
  const child = spawn('npm', ['run', 'grade', '--', String(milestone.number), '--watch', '--target', 'solutions'], {
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const tallies = () => output.match(/checks pass \(/g)?.length ?? 0;
  const waitForTally = async (count: number, deadline: number) => {
    while (tallies() < count) {
      if (Date.now() > deadline) throw new Error(`--watch did not grade within the deadline; it printed:\n${output.slice(-2000)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  const overheads: number[] = [];
  try {
    await waitForTally(1, Date.now() + 120_000);
    for (let save = 1; save <= saves; save++) {
      // The grading child for the next run is started once the tally is out: let it load, as a learner reading the result would.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const before = output.length;
      const savedAt = Date.now();
      fs.utimesSync(milestone.exercise.file, new Date(), new Date());
      await waitForTally(save + 1, savedAt + 120_000);
      overheads.push(Date.now() - savedAt - checksTime(milestone.number, output.slice(before)));
    }
  } finally {
    if (child.pid) process.kill(-child.pid, 'SIGINT');
  }
  return overheads;
}

async function main(): Promise<number> {
  let args: ReturnType<typeof parseBenchArgs>;
  try {
    args = parseBenchArgs(process.argv.slice(2));
  } catch (error) {
    exitWith(error); // --help: 0; a wrong command line: 2
  }
  const { rounds, only, cli, cliRuns, phases } = args;
  if (args.underLoad) return benchUnderLoad(only, args.checks);
  const environment = await prepareEnvironment();
  const { rabbitmq_version: rabbitmq } = await environment.api.overview();
  const load = () =>
    os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  const machine = `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, RabbitMQ ${rabbitmq} (${environment.broker.source})`;
  say(`bench: ${machine}; ${rounds} round(s); load average ${load()}`);

  const figures: MilestoneFigures[] = only.map((milestone) => ({ milestone, samples: [] }));
  const roundTotals: number[] = [];
  let phaseTable: string[] = [];
  try {
    if (phases) phaseTable = await timePhases(environment);
    for (let round = 1; round <= rounds; round++) {
      let total = 0;
      for (const entry of figures) {
        if (entry.missing) continue;
        try {
          await entry.milestone.checks(); // a milestone still being written is reported, not timed
        } catch (error) {
          entry.missing = error instanceof Error ? error.message.split('\n')[0] : String(error);
          say(`  milestone ${entry.milestone.number}: not measured (${entry.missing})`);
          continue;
        }
        const started = Date.now();
        const result = await gradeMilestone(environment, entry.milestone, 'solutions');
        const ms = Date.now() - started;
        total += ms;
        const slowest = [...result.checks].sort((a, b) => b.durationMs - a.durationMs)[0];
        entry.samples.push({
          ms,
          status: result.status,
          checks: result.checks.length,
          slowest: slowest && { id: slowest.id, ms: slowest.durationMs },
        });
        const problems = result.checks.filter((c) => c.status !== 'pass').map((c) => `${c.id} ${c.status}`);
        say(
          `  round ${round}, milestone ${entry.milestone.number}: ${secs(ms)} ${result.status}${result.error ? ` (${result.error})` : ''}${problems.length ? ` (${problems.join(', ')})` : ''}`,
        );
      }
      roundTotals.push(total);
    }
  } finally {
    await environment.broker.stop();
  }
  say(`load average after the rounds: ${load()}`);

  const learnerRows: string[] = [];
  let learnerOverBudget = false;
  if (cli) {
    for (const { milestone } of figures) {
      // Starter and reference in turn, cliRuns times: each figure is the median of its runs, and the
      // load average (1 min) at the start of each run is given with them.
      const runs: Array<{ starter: Awaited<ReturnType<typeof timeGradeOne>>; reference: Awaited<ReturnType<typeof timeGradeOne>> }> = [];
      const loads: number[] = [];
      for (let run = 0; run < cliRuns; run++) {
        loads.push(os.loadavg()[0] ?? NaN);
        const starter = await timeGradeOne(milestone.number, 'mine');
        loads.push(os.loadavg()[0] ?? NaN);
        const reference = await timeGradeOne(milestone.number, 'solutions');
        runs.push({ starter, reference });
        say(
          `  npm run grade -- ${milestone.number}: starter ${secs(starter.reportedMs ?? NaN)} (wall ${secs(starter.wallMs)}), reference ${secs(reference.reportedMs ?? NaN)} (wall ${secs(reference.wallMs)})`,
        );
      }
      const median = (values: Array<number | undefined>) =>
        values.some((v) => v === undefined) ? undefined : stats(values as number[]).median;
      const figure = (which: 'starter' | 'reference') => ({
        reportedMs: median(runs.map((r) => r[which].reportedMs)),
        wallMs: stats(runs.map((r) => r[which].wallMs)).median,
        aroundMs: stats(runs.map((r) => r[which].wallMs - r[which].checksMs)).median,
      });
      const starter = figure('starter');
      const reference = figure('reference');
      const over = (ms?: number) => ms === undefined || ms > milestone.budgetMs;
      learnerOverBudget ||= over(starter.reportedMs) || over(reference.reportedMs);
      const load = stats(loads);
      learnerRows.push(
        `| ${milestone.number} | ${secs(starter.reportedMs ?? NaN)} | ${secs(starter.wallMs)} | ${secs(starter.aroundMs)} | ${secs(reference.reportedMs ?? NaN)} | ${secs(reference.wallMs)} | ${secs(reference.aroundMs)} | ${secs(milestone.budgetMs).replace('.0 s', ' s')} | ${over(starter.reportedMs) || over(reference.reportedMs) ? '**no**' : 'yes'} | ${load.min.toFixed(1)} to ${load.max.toFixed(1)} |`,
      );
    }
  }
  let watchRow: string | undefined;
  const [first] = figures;
  if (cli && first) {
    say(`timing --watch: ${WATCH_SAVES} saves of milestone ${first.milestone.number}'s exercise file...`);
    const loadBefore = os.loadavg()[0] ?? NaN;
    const overheads = await timeWatchRegrades(first.milestone, WATCH_SAVES);
    const loadAfter = os.loadavg()[0] ?? NaN;
    const { min, median, max } = stats(overheads);
    say(`  around the checks: ${overheads.map(secs).join(', ')}`);
    watchRow = `| ${first.milestone.number} | ${overheads.length} | ${secs(min)} | ${secs(median)} | ${secs(max)} | ${loadBefore.toFixed(1)} to ${loadAfter.toFixed(1)} |`;
  }
  let cliRun: Awaited<ReturnType<typeof timeGradeAll>> | undefined;
  if (cli) {
    say('timing `npm run grade -- all --target solutions` as a child process...');
    cliRun = await timeGradeAll();
    say(`  ${secs(cliRun.ms)}, exit code ${cliRun.code}: ${cliRun.tail}`);
  }

  const measured = figures.filter((f) => !f.missing);
  const lines = [
    `Grader benchmark, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC: ${machine}; ${rounds} round(s), reference layers (\`--target solutions\`).`,
    '',
    '| # | Milestone | Checks | Reference | min | median | max | Budget | Within budget | Slowest check (median) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  let overBudget = false;
  for (const { milestone, samples, missing } of figures) {
    const budget = secs(milestone.budgetMs).replace('.0 s', ' s');
    if (missing) {
      lines.push(`| ${milestone.number} | ${milestone.title} | — | not written yet | — | — | — | ${budget} | — | — |`);
      continue;
    }
    const { min, median, max } = stats(samples.map((s) => s.ms));
    const passes = samples.filter((s) => s.status === 'pass').length;
    const within = max <= milestone.budgetMs;
    overBudget ||= !within || passes < samples.length;
    lines.push(
      `| ${milestone.number} | ${milestone.title} | ${samples[0]?.checks ?? 0} | ${passes === samples.length ? 'pass' : `**${passes}/${samples.length} pass**`} | ${secs(min)} | ${secs(median)} | ${secs(max)} | ${budget} | ${within ? 'yes' : '**no**'} | ${slowestCheck(samples)} |`,
    );
  }
  if (roundTotals.length > 0 && measured.length > 0) {
    const { min, median, max } = stats(roundTotals);
    const label =
      measured.length === CORE_MILESTONES.length && measured.every((f) => !f.milestone.optional)
        ? 'All nine'
        : `The ${measured.length} written (${measured.map((f) => f.milestone.number).join(', ')})`;
    overBudget ||= max > ALL_BUDGET_MS;
    lines.push(
      `| | **${label}, in one process** | | | ${secs(min)} | ${secs(median)} | ${secs(max)} | ${secs(ALL_BUDGET_MS).replace('.0 s', ' s')} | ${max <= ALL_BUDGET_MS ? 'yes' : '**no**'} | |`,
    );
  }
  if (cliRun) {
    const within = cliRun.ms <= ALL_BUDGET_MS;
    lines.push(
      `| | **\`npm run grade -- all --target solutions\`** (child process, once) | | exit ${cliRun.code} | | ${secs(cliRun.ms)} | | 60 s | ${within ? 'yes' : '**no**'} | |`,
    );
  }
  if (learnerRows.length > 0) {
    lines.push(
      '',
      `As a learner runs it, ${cliRuns === 1 ? 'once each' : `${cliRuns} times each, in turn (medians)`}: \`npm run grade -- N\` (the child process and the type check included), with the starter as shipped (every check fails) and with the reference (\`--target solutions\`). "Reported" is the time the grader prints for the milestone; "wall" adds npm, starting the command and the grading child, and finding the broker; "around" is the wall time less the checks' own (their durations added up; for a milestone that runs them at once, the longest); "load" the 1-minute load average as the runs started.`,
      '',
      '| # | Starter, reported | Starter, wall | Starter, around | Reference, reported | Reference, wall | Reference, around | Budget | Within budget | Load |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...learnerRows,
    );
  }
  if (watchRow) {
    lines.push(
      '',
      `\`--watch\` (the reference): from a save of the exercise file to the tally, less the checks' own time.`,
      '',
      '| # | Saves | min | median | max | Load |',
      '| --- | --- | --- | --- | --- | --- |',
      watchRow,
    );
  }
  if (phaseTable.length > 0) lines.push('', 'What one check is made of:', '', ...phaseTable);
  process.stdout.write(`${lines.join('\n')}\n`);
  return overBudget || learnerOverBudget ? 1 : 0;
}

process.exitCode = await main().catch((error: unknown) => {
  say(`bench: ${error instanceof Error ? error.message : String(error)}`);
  return 2;
});
