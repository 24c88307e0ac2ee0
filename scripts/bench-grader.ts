// `npm run bench:grader [-- --rounds 3] [--only 1,4] [--no-cli]`
// How long grading takes: in one process (one broker lookup), every milestone graded with the
// reference, `rounds` times, then one learner-style `npm run grade -- all --target solutions` as a
// child process, end to end. Progress goes to stderr, the Markdown table to stdout.
// docs/grader-performance.md records the budgets and a run of this.
import { spawn } from 'node:child_process';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { MILESTONES, type Milestone } from '../grader/manifest.ts';
import { gradeMilestone, prepareEnvironment, type Status } from '../grader/runner.ts';

/** Grading all nine, one after another, should take at most this (docs/grader-performance.md). */
const ALL_BUDGET_MS = 60_000;

interface Sample {
  ms: number;
  status: Status;
  checks: number;
}

interface MilestoneFigures {
  milestone: Milestone;
  /** Why it was not measured (its checks do not exist yet). */
  missing?: string;
  samples: Sample[];
}

const say = (line: string) => process.stderr.write(`${line}\n`);
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function stats(values: number[]): { min: number; median: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
  return { min: sorted[0] as number, median, max: sorted.at(-1) as number };
}

function parseBenchArgs(argv: string[]): { rounds: number; only: Milestone[]; cli: boolean } {
  const { values } = parseArgs({ args: argv, options: { rounds: { type: 'string' }, only: { type: 'string' }, 'no-cli': { type: 'boolean' } }, strict: true });
  const rounds = Number(values.rounds ?? 3);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds takes a whole number, 1 or more');
  const wanted = values.only?.split(',').map(Number);
  const only = wanted ? MILESTONES.filter((m) => wanted.includes(m.number)) : MILESTONES;
  return { rounds, only, cli: !values['no-cli'] };
}

/** Learner-style: `npm run grade -- all --target solutions` as its own process, timed from spawn to exit. */
function timeGradeAll(): Promise<{ ms: number; code: number | null; tail: string }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn('npm', ['run', 'grade', '--', 'all', '--target', 'solutions'], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('close', (code) => resolve({ ms: Date.now() - started, code, tail: output.trim().split('\n').slice(-3).join(' / ') }));
  });
}

async function main(): Promise<number> {
  const { rounds, only, cli } = parseBenchArgs(process.argv.slice(2));
  const environment = await prepareEnvironment();
  const { rabbitmq_version: rabbitmq } = await environment.api.overview();
  const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');
  const machine = `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, RabbitMQ ${rabbitmq} (${environment.broker.source})`;
  say(`bench: ${machine}; ${rounds} round(s); load average ${load()}`);

  const figures: MilestoneFigures[] = only.map((milestone) => ({ milestone, samples: [] }));
  const roundTotals: number[] = [];
  try {
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
        entry.samples.push({ ms, status: result.status, checks: result.checks.length });
        const problems = result.checks.filter((c) => c.status !== 'pass').map((c) => `${c.id} ${c.status}`);
        say(`  round ${round}, milestone ${entry.milestone.number}: ${secs(ms)} ${result.status}${result.error ? ` (${result.error})` : ''}${problems.length ? ` (${problems.join(', ')})` : ''}`);
      }
      roundTotals.push(total);
    }
  } finally {
    await environment.broker.stop();
  }
  say(`load average after the rounds: ${load()}`);

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
    '| # | Milestone | Checks | Reference | min | median | max | Budget | Within budget |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  let overBudget = false;
  for (const { milestone, samples, missing } of figures) {
    const budget = secs(milestone.budgetMs).replace('.0 s', ' s');
    if (missing) {
      lines.push(`| ${milestone.number} | ${milestone.title} | — | not written yet | — | — | — | ${budget} | — |`);
      continue;
    }
    const { min, median, max } = stats(samples.map((s) => s.ms));
    const passes = samples.filter((s) => s.status === 'pass').length;
    const within = max <= milestone.budgetMs;
    overBudget ||= !within || passes < samples.length;
    lines.push(
      `| ${milestone.number} | ${milestone.title} | ${samples[0]?.checks ?? 0} | ${passes === samples.length ? 'pass' : `**${passes}/${samples.length} pass**`} | ${secs(min)} | ${secs(median)} | ${secs(max)} | ${budget} | ${within ? 'yes' : '**no**'} |`,
    );
  }
  if (roundTotals.length > 0 && measured.length > 0) {
    const { min, median, max } = stats(roundTotals);
    const label = measured.length === MILESTONES.length ? 'All nine' : `The ${measured.length} written (${measured.map((f) => f.milestone.number).join(', ')})`;
    overBudget ||= max > ALL_BUDGET_MS;
    lines.push(`| | **${label}, in one process** | | | ${secs(min)} | ${secs(median)} | ${secs(max)} | ${secs(ALL_BUDGET_MS).replace('.0 s', ' s')} | ${max <= ALL_BUDGET_MS ? 'yes' : '**no**'} |`);
  }
  if (cliRun) {
    const within = cliRun.ms <= ALL_BUDGET_MS;
    lines.push(`| | **\`npm run grade -- all --target solutions\`** (child process, once) | | exit ${cliRun.code} | | ${secs(cliRun.ms)} | | 60 s | ${within ? 'yes' : '**no**'} |`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return overBudget ? 1 : 0;
}

process.exitCode = await main().catch((error: unknown) => {
  say(`bench: ${error instanceof Error ? error.message : String(error)}`);
  return 2;
});
