// `npm run chaos [-- --orders 1000] [--quick] [--cluster] [--label <name>] [--no-report] ...`
// The fault suite: the order system on a throwaway RabbitMQ node of its own (or a 3-node cluster of
// them), never the machine's broker, its six services as processes, N orders with a mix of
// outcomes, and during the load a broker restart, kill -9 of each service with work in flight,
// every connection closed and transient handler failures. It reports whether every order reached
// the right outcome, whether anything was applied twice, whether the stock adds up, what is left in
// the dead-letter queue and how long each fault took to get over, into docs/reliability.md.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rabbitmqServerInstalled } from '../shared/broker/throwaway-node.ts';
import { defineCli, EnvironmentError, parseOrExit, runMain } from '../shared/cli/args.ts';
import { createLogger } from '../shared/log.ts';
import { writeReliabilityReport } from './chaos/report.ts';
import { CLUSTER_FAULTS, FULL_FAULTS, runChaos } from './chaos/run-chaos.ts';
import type { Fault } from './chaos/faults.ts';
import { gitCommit } from './shared/git-commit.ts';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));

const CHAOS_CLI = defineCli({
  command: 'npm run chaos',
  synopsis: [
    'npm run chaos [-- --orders <n>] [--quick] [--cluster] [--failure-rate <share>] [--rate <n>] [--deadline <seconds>] [--seed <n>] [--label <name>] [--out <file>] [--no-report]',
  ],
  summary: `Runs the order system on a throwaway RabbitMQ node of its own (never the machine's broker), places orders
with a mix of outcomes and injects faults during the load: a broker restart, kill -9 of each service, every
connection closed, transient handler failures. Reports right, stuck, wrong and applied-twice orders, the stock,
the dead-letter queue and recovery times, into docs/reliability.md. Stops by itself and removes what it started.`,
  options: {
    orders: { type: 'string', value: '<n>', default: '1000', description: 'how many orders to place' },
    quick: {
      type: 'boolean',
      description: '200 orders and four faults (broker restart, kill -9 of payment and order, connections closed)',
    },
    cluster: {
      type: 'boolean',
      description: 'three nodes joined into a cluster, QUEUE_TYPE=quorum, and the node leading the busiest queues killed mid-load',
    },
    'failure-rate': {
      type: 'string',
      value: '<share>',
      default: '0.05',
      description: 'the share of handler calls that fail transiently first (CHAOS_FAILURE_RATE)',
    },
    rate: {
      type: 'string',
      value: '<n>',
      description: 'orders placed per second (default: about five seconds of orders per fault, at most 25/s)',
    },
    deadline: {
      type: 'string',
      value: '<seconds>',
      default: '180',
      description: 'how long the orders have, once all are placed, to reach their end',
    },
    seed: { type: 'string', value: '<n>', default: '1', description: 'the seed of the order mix (the same seed places the same orders)' },
    label: {
      type: 'string',
      value: '<name>',
      description: 'what the run is called in the report and its JSON file (default single-node or cluster)',
    },
    out: {
      type: 'string',
      value: '<file>',
      default: 'docs/reliability.md',
      description: 'the Markdown file whose generated part is rewritten',
    },
    'no-report': { type: 'boolean', description: 'print the figures as JSON on stdout and write nothing' },
  },
  notes:
    'Exit codes: 0 every order right and nothing applied twice, 1 a finding (or no rabbitmq-server here), 2 a wrong command line.\ndocs/reliability.md explains the figures.',
});

function number(value: string | undefined, option: string, check: (n: number) => boolean, what: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || !check(n)) throw CHAOS_CLI.usageError(`--${option} takes ${what}, not "${value}"`);
  return n;
}

await runMain(async () => {
  const { values } = parseOrExit(CHAOS_CLI);
  const positive = (n: number) => n > 0;
  const orders = values.quick
    ? 200
    : (number(values.orders, 'orders', (n) => Number.isInteger(n) && n > 0 && n <= 100_000, 'a whole number from 1 to 100000') as number);
  const failureRate = number(values['failure-rate'], 'failure-rate', (n) => n >= 0 && n <= 0.5, 'a share from 0 to 0.5') as number;
  const ratePerSecond = number(values.rate, 'rate', positive, 'a positive number');
  const deadlineSeconds = number(values.deadline, 'deadline', positive, 'a positive number of seconds') as number;
  const seed = number(values.seed, 'seed', Number.isInteger, 'a whole number') as number;
  const label = values.label ?? (values.cluster ? 'cluster' : 'single-node');
  if (!/^[a-z0-9-]+$/i.test(label)) throw CHAOS_CLI.usageError('--label takes letters, digits and dashes');
  if (!(await rabbitmqServerInstalled()))
    throw new EnvironmentError(
      'npm run chaos starts throwaway RabbitMQ nodes of its own: it needs rabbitmq-server (and rabbitmqctl) installed on this machine',
    );

  const quickFaults: Fault[] = [
    { kind: 'broker-restart' },
    { kind: 'kill-service', service: 'payment' },
    { kind: 'kill-service', service: 'order' },
    { kind: 'close-connections' },
  ];
  const faults = values.cluster ? CLUSTER_FAULTS : values.quick ? quickFaults : FULL_FAULTS;
  const log = createLogger('chaos', { out: (line) => process.stderr.write(`${line}\n`), err: (line) => process.stderr.write(`${line}\n`) });
  const result = await runChaos({
    orders,
    faults,
    cluster: values.cluster === true,
    ratePerSecond,
    failureRate,
    deadlineSeconds,
    seed,
    label,
    log,
    exitOnSignal: true,
  });
  const { verdict } = result;
  log.info(
    `${verdict.right}/${verdict.accepted} right, ${verdict.stuck.length} stuck, ${verdict.lost.length} lost, ${verdict.wrong.length} wrong, ${verdict.appliedTwice.length} applied twice, ` +
      `stock ${verdict.stock.consistent ? 'consistent' : 'INCONSISTENT'}, ${verdict.deadLetters.count} in the dead-letter queue: ${result.passed ? 'passed' : 'FAILED'}`,
  );

  const run = {
    label,
    date: new Date().toISOString(),
    commit: gitCommit(REPO_ROOT),
    command: `npm run chaos -- ${process.argv.slice(2).join(' ')}`.trim().replace(/ --$/, ''),
    ...result,
  };
  if (values['no-report']) {
    process.stdout.write(`${JSON.stringify(run, null, 2)}\n`);
  } else {
    for (const file of writeReliabilityReport(run, path.resolve(REPO_ROOT, values.out)))
      process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
  }
  return result.passed ? 0 : 1;
});
