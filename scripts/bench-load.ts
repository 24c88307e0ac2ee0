// `npm run bench:load [-- --seconds 15] [--quick] [--profile <dir>] [--soak <minutes>] ...`
// How fast the order system is next to the broker it runs on, measured in one run on this machine:
//   1. the broker's own ceiling (one client, persistent messages, confirms, manual acks);
//   2. the saga under `npm start` at several concurrencies, one order at a time up to 50 in flight,
//      with and without 200 clients polling GET /orders/:id, and at half the peak rate;
//   3. competing consumers on an I/O-bound handler (layers 5 and 9), 1, 2 and 4 workers;
//   4. optionally, memory over a long run at half the peak (--soak).
// It then writes the figures into docs/performance.md (between its markers, leaving the prose), the
// charts as SVG and the raw figures as JSON. Everything it talks to is on 127.0.0.1.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { withVhost } from '../shared/broker/broker-url.ts';
import { findBroker } from '../shared/broker/find-broker.ts';
import { ManagementApi } from '../shared/broker/management-api.ts';
import { CliError, defineCli, parseOrExit, runMain } from '../shared/cli/args.ts';
import { silentLogger } from '../shared/log.ts';
import { measureBrokerCeiling } from './bench-load/broker-ceiling.ts';
import { findBrokerPid, sampleProcess, UsageMeter } from './bench-load/process-usage.ts';
import { summarizeProfiles } from './bench-load/profile-summary.ts';
import { ProgressBar } from './shared/progress-bar.ts';
import { type BenchRun, type PhaseFigures, writeReport } from './bench-load/report.ts';
import { CompletionTap, type LoadPhase, runSagaPhase } from './bench-load/saga-load.ts';
import { startSystemUnderTest } from './bench-load/system-under-test.ts';
import { settledCounts } from './bench-load/vhost-stats.ts';
import { measureWorkerScaling } from './bench-load/worker-scaling.ts';
import { gitCommit } from './shared/git-commit.ts';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
/** An order.created event as the order service publishes it is about this big. */
const EVENT_BYTES = 420;

const LOAD_CLI = defineCli({
  command: 'npm run bench:load',
  synopsis: [
    'npm run bench:load [-- --seconds <n>] [--quick] [--label <name>] [--out <file>] [--before <file>] [--profile <dir>] [--soak <minutes>] [--no-report]',
  ],
  summary: `Measures the broker's own ceiling, then the order saga under npm start at several concurrencies (with and
without 200 polling clients, and at half the peak rate), then competing consumers on an I/O-bound handler,
and writes the figures, charts and JSON into docs/. Talks only to 127.0.0.1; stops by itself.`,
  options: {
    seconds: { type: 'string', value: '<n>', default: '15', description: 'how long each load phase runs' },
    quick: { type: 'boolean', description: 'a short run (5 s phases) to see that it works; figures are noisier' },
    label: {
      type: 'string',
      value: '<name>',
      default: 'after',
      description: 'what this run is called in the report and its JSON file, e.g. before',
    },
    out: {
      type: 'string',
      value: '<file>',
      default: 'docs/performance.md',
      description: 'the Markdown file whose generated part is rewritten',
    },
    before: {
      type: 'string',
      value: '<file>',
      default: 'docs/performance/before.json',
      description: 'an earlier run to compare with, if the file exists',
    },
    profile: {
      type: 'string',
      value: '<dir>',
      description: 'run every service under node --cpu-prof, then summarize where their time went',
    },
    soak: {
      type: 'string',
      value: '<minutes>',
      description: "also run at half the peak for this long and report each service's memory at start and end",
    },
    'no-report': { type: 'boolean', description: 'print the figures as JSON on stdout and write nothing' },
  },
  notes: 'docs/performance.md explains the figures, the profile and what was changed because of them.',
});

function positiveNumber(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw LOAD_CLI.usageError(`--${option} takes a positive number, not "${value}"`);
  return n;
}

await runMain(async () => {
  const { values } = parseOrExit(LOAD_CLI);
  const seconds = values.quick ? 5 : (positiveNumber(values.seconds, 'seconds') as number);
  const soakMinutes = positiveNumber(values.soak, 'soak');
  const label = values.label;
  if (!/^[a-z0-9-]+$/i.test(label)) throw LOAD_CLI.usageError('--label takes letters, digits and dashes');

  const broker = await findBroker({ log: silentLogger, mayStartContainer: false });
  const { hostname } = new URL(broker.url);
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(hostname)) {
    throw new CliError(`npm run bench:load only loads a broker on this machine, not ${hostname}`);
  }
  const api = new ManagementApi(broker.management);
  const overview = await api.request<{ rabbitmq_version: string; node: string }>('GET', '/overview');
  const brokerPid = findBrokerPid(overview.node);

  const phases: LoadPhase[] = [
    { name: 'one order at a time', outstanding: 1, seconds, pollers: 0, pollIntervalMs: 100 },
    { name: '5 in flight', outstanding: 5, seconds, pollers: 0, pollIntervalMs: 100 },
    { name: '20 in flight', outstanding: 20, seconds, pollers: 0, pollIntervalMs: 100 },
    { name: '50 in flight', outstanding: 50, seconds, pollers: 0, pollIntervalMs: 100 },
    { name: '50 in flight, 200 clients polling every 100 ms', outstanding: 50, seconds, pollers: 200, pollIntervalMs: 100 },
  ];
  const scalingWorkers = [1, 2, 4];
  const progress = new ProgressBar(2 + phases.length + 1 + scalingWorkers.length + (soakMinutes ? 1 : 0));

  // 1. The broker alone, on a vhost of its own, removed afterwards whatever happens.
  const onScratchVhost = async <T>(work: (url: string) => Promise<T>): Promise<T> => {
    const vhost = `bench-load-raw-${process.pid}`;
    await api.createVhost(vhost);
    try {
      return await work(withVhost(broker.url, vhost));
    } finally {
      await api.deleteVhost(vhost);
    }
  };
  const ceilingSeconds = Math.min(seconds, 8);
  const brokerMeter = () => new UsageMeter(() => new Map(brokerPid ? [['broker', brokerPid]] : []));
  progress.step('broker ceiling');
  const ceiling = [await onScratchVhost((url) => measureBrokerCeiling(url, ceilingSeconds, EVENT_BYTES, brokerMeter()))];
  progress.note(`broker ceiling ${Math.round(ceiling[0]?.messagesPerSecond ?? 0)} messages/s`);

  // 2. The saga.
  const profileDir = values.profile ? path.resolve(values.profile) : undefined;
  if (profileDir) fs.mkdirSync(profileDir, { recursive: true });
  const system = await startSystemUnderTest({
    broker,
    label,
    // Profiled, the services run from their sources (START_NO_BUNDLE): in npm start's bundle every
    // frame would name the one bundle file, and the summary sorts time by the file a frame is in.
    env: profileDir ? { SERVICE_NODE_ARGS: `--cpu-prof --cpu-prof-dir=${profileDir}`, START_NO_BUNDLE: '1' } : {},
  });
  const pidNames = new Map<number, string>();
  const processes = () => {
    const named = system.processes();
    for (const [name, pid] of named) pidNames.set(pid, name);
    if (brokerPid) named.set('broker', brokerPid);
    named.set('load driver', process.pid);
    return named;
  };
  const tap = await CompletionTap.open(system.brokerUrl);
  const figures: PhaseFigures[] = [];
  let soak: BenchRun['soak'];
  let perOrder: BenchRun['perOrder'];
  try {
    const runPhase = async (phase: LoadPhase, index: number) => {
      progress.step(phase.name);
      const meter = new UsageMeter(processes);
      const linesBefore = system.logLines();
      meter.start();
      const saga = await runSagaPhase(system.apiUrl, tap, phase, (share) => progress.within(share), `${label}-${index}`);
      const usage = meter.stop();
      figures.push({
        phase,
        saga,
        usage,
        logLinesPerSecond: (system.logLines() - linesBefore) / phase.seconds,
      });
      progress.note(`${phase.name}: ${saga.ordersPerSecond.toFixed(1)} orders/s, p50 ${saga.latencyMs.p50.toFixed(0)} ms`);
    };
    const countsBefore = await settledCounts(api, system.vhost);
    for (const [index, phase] of phases.entries()) await runPhase(phase, index);
    const peak = Math.max(...figures.filter((f) => f.phase.pollers === 0).map((f) => f.saga.ordersPerSecond));
    const half = Math.max(1, Math.round(peak / 2));
    await runPhase(
      { name: `half the peak: ${half} orders/s arriving`, outstanding: 0, rate: half, seconds, pollers: 0, pollIntervalMs: 100 },
      phases.length,
    );
    // The management API's counters lag by a sample or more: read them once, over all the phases.
    const countsAfter = await settledCounts(api, system.vhost);
    const orders = figures.reduce((sum, f) => sum + f.saga.orders + f.saga.failures, 0);
    perOrder = {
      publishes: (countsAfter.publish - countsBefore.publish) / orders,
      deliveries: (countsAfter.deliver - countsBefore.deliver) / orders,
    };

    if (soakMinutes) {
      progress.step(`soak: ${half} orders/s for ${soakMinutes} min`);
      const rssAt = () =>
        Object.fromEntries(
          [...processes()].filter(([name]) => name !== 'load driver').map(([name, pid]) => [name, sampleProcess(pid)?.rssBytes ?? 0]),
        );
      const rssStart = rssAt();
      const saga = await runSagaPhase(
        system.apiUrl,
        tap,
        { name: 'soak', outstanding: 0, rate: half, seconds: soakMinutes * 60, pollers: 0, pollIntervalMs: 100 },
        (share) => progress.within(share),
        `${label}-soak`,
      );
      soak = { minutes: soakMinutes, ordersPerSecond: saga.ordersPerSecond, latencyMs: saga.latencyMs, rssStart, rssEnd: rssAt() };
    }
  } finally {
    await tap.close();
    progress.step('stopping the system');
    await system.stop();
  }

  // 1 again: the ceiling at the end of the run too, in case the machine changed meanwhile.
  ceiling.push(await onScratchVhost((url) => measureBrokerCeiling(url, ceilingSeconds, EVENT_BYTES, brokerMeter())));

  // 3. Competing consumers on an I/O-bound handler.
  const scaling = [];
  for (const workers of scalingWorkers) {
    progress.step(`competing consumers: ${workers} worker${workers === 1 ? '' : 's'}`);
    scaling.push(await onScratchVhost((url) => measureWorkerScaling(url, workers, 10, 20, Math.min(seconds, 4))));
  }
  progress.done();

  const run: BenchRun = {
    label,
    date: new Date().toISOString(),
    commit: gitCommit(REPO_ROOT),
    command: `npm run bench:load -- ${process.argv.slice(2).join(' ')}`.trim().replace(/ --$/, ''),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      rabbitmq: overview.rabbitmq_version,
    },
    readyMs: system.readyMs,
    ceiling,
    perOrder,
    phases: figures,
    scaling,
    soak,
  };
  if (profileDir) run.profile = summarizeProfiles(profileDir, pidNames);

  if (values['no-report']) {
    process.stdout.write(`${JSON.stringify(run, null, 2)}\n`);
    return 0;
  }
  const written = await writeReport(run, { out: path.resolve(REPO_ROOT, values.out), before: path.resolve(REPO_ROOT, values.before) });
  for (const file of written) process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
  return 0;
});
