// `npm run milestone`            where you are: the nine milestones, which pass, which is next.
// `npm run milestone -- N`       milestone N's brief, then its demo with your layer on a real broker.
//   --target solutions           run the demo with the reference layer instead of yours
//   --no-demo                    the brief only (no broker needed)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import amqp, { type ChannelModel } from 'amqplib';
import { withVhost } from '../../shared/broker/broker-url.ts';
import { BrokerNotFoundError } from '../../shared/broker/find-broker.ts';
import { ExerciseNotWrittenError } from '../../shared/exercise.ts';
import type { Layers } from '../../shared/layers/index.ts';
import { createLogger, describeError } from '../../shared/log.ts';
import { referenceLayers } from '../../solutions/layers/index.ts';
import { createLogStream } from '../../solutions/supervisor/log-stream.ts';
import { startSystem, type RunningSystem } from '../../solutions/system.ts';
import type { DemoContext } from '../demo-context.ts';
import { MILESTONES, type Milestone } from '../manifest.ts';
import { loadProgress, type Progress } from '../progress.ts';
import { bold, dim, green, red, seconds, yellow } from '../report/console.ts';
import { EnvironmentError, loadLayer, prepareEnvironment, type Target } from '../runner.ts';
import { CommandError, isMain, milestoneState, nextMilestone, parseMilestoneNumber, runCommand, type MilestoneState } from './shared.ts';

const USAGE = 'Usage: npm run milestone [-- <1-9>] [--target solutions] [--no-demo]';
/** A demo is a short scenario; one still running after this waits for something that will not come. */
const DEMO_TIMEOUT_MS = 30_000;

export interface MilestoneArgs {
  milestone?: Milestone;
  target: Target;
  demo: boolean;
}

export function parseMilestoneArgs(argv: string[]): MilestoneArgs {
  const args: MilestoneArgs = { target: 'mine', demo: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--target') {
      const value = argv[++i];
      if (value !== 'solutions' && value !== 'mine') throw new CommandError(`--target takes "solutions" or "mine". ${USAGE}`, 2);
      args.target = value;
    } else if (arg === '--no-demo') args.demo = false;
    else if (!arg.startsWith('-') && args.milestone === undefined) args.milestone = parseMilestoneNumber(arg, USAGE);
    else throw new CommandError(`unknown argument ${arg}. ${USAGE}`, 2);
  }
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

/** The nine milestones with their status, a progress bar and the next step, like rustlings' list. */
export function renderProgress(progress: Progress): string {
  const passed = MILESTONES.filter((m) => progress.passed[m.number]).length;
  const next = nextMilestone(progress);
  const width = 27;
  const filled = Math.round((passed / MILESTONES.length) * width);
  const bar = `${'#'.repeat(filled)}${filled < width ? '>' : ''}${'-'.repeat(Math.max(0, width - filled - 1))}`;
  const titleWidth = Math.max(...MILESTONES.map((m) => m.title.length));
  const lines = [bold('RabbitMQ order workshop: nine milestones'), ''];
  for (const m of MILESTONES) {
    const state = milestoneState(progress, m);
    const pointer = m === next ? bold('→') : ' ';
    lines.push(`${pointer} ${mark(state)} ${String(m.number).padStart(2)}  ${m.title.padEnd(titleWidth)}  ${stateNote(state)}`);
  }
  lines.push('', `Progress: [${bar}] ${passed}/${MILESTONES.length}`, '');
  if (next) {
    lines.push(`Current milestone: ${next.exercise.file}`, `Next: ${bold(`npm run milestone -- ${next.number}`)}`);
  } else {
    lines.push(green('🎉 All nine milestones pass.'), `Run the whole system on your own layers: ${bold('npm start -- --layers mine')}`);
  }
  return lines.join('\n');
}

// ── the brief ────────────────────────────────────────────────────────────────────────────────────

export function readmePath(milestone: Milestone): string {
  return `milestones/${milestone.slug}/README.md`;
}

/** Number, title, goal, what to edit and read, the checks it is graded on, and the hints. */
export async function renderBrief(milestone: Milestone, progress: Progress): Promise<string> {
  const n = milestone.number;
  const readme = readmePath(milestone);
  const lines = [
    bold(`Milestone ${n} of ${MILESTONES.length}: ${milestone.title}`),
    milestone.goal,
    '',
    `  Edit:   ${milestone.exercise.file}  ${dim(`(it exports \`${milestone.exercise.exportName}\`)`)}`,
    `  Read:   ${readme}${fs.existsSync(readme) ? '' : yellow('  (not written yet)')}`,
    `  Status: ${mark(milestoneState(progress, milestone))} ${stateNote(milestoneState(progress, milestone))}`,
    '',
  ];
  try {
    const checks = await milestone.checks();
    lines.push(`Graded on (${bold(`npm run grade -- ${n}`)}):`, ...checks.map((check, i) => `  ${i + 1}. ${check.name}`));
  } catch (error) {
    lines.push(yellow(`The checks of this milestone do not load yet (${describeError(error)}).`));
  }
  if (milestone.hints.length > 0) lines.push('', 'Hints:', ...milestone.hints.map((hint) => `  💰 ${hint}`));
  return lines.join('\n');
}

// ── the demo ─────────────────────────────────────────────────────────────────────────────────────

/** The ExerciseNotWrittenError behind an error, if any (a demo or a service may wrap it). */
export function findNotWritten(error: unknown): ExerciseNotWrittenError | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    if (current instanceof ExerciseNotWrittenError || current.name === 'ExerciseNotWrittenError') return current as ExerciseNotWrittenError;
  }
  return undefined;
}

/** Where in the learner's exercise file an error came from: "milestones/06-…/dead-letters.ts:42". */
function placeInExercise(error: unknown, milestone: Milestone): string | undefined {
  const stack = error instanceof Error ? (error.stack ?? '') : '';
  const match = stack.split('\n').find((line) => line.includes(milestone.exercise.file));
  const at = match?.match(/(milestones\/[^:)\s]+:\d+)/);
  return at?.[1];
}

export interface DemoOutcome {
  ok: boolean;
  durationMs: number;
}

/** Runs the milestone's demo with the target's layer in a vhost of its own, printing as it goes. */
export async function runMilestoneDemo(milestone: Milestone, target: Target, out: (line: string) => void = console.log): Promise<DemoOutcome> {
  const started = Date.now();
  const outcome = (ok: boolean): DemoOutcome => ({ ok, durationMs: Date.now() - started });
  const file = target === 'mine' ? milestone.exercise.file : milestone.reference.file;

  let demo: Awaited<ReturnType<Milestone['demo']>>;
  try {
    demo = await milestone.demo();
  } catch (error) {
    out(yellow(`Milestone ${milestone.number} has no demo yet (${describeError(error)}).`));
    return outcome(false);
  }
  let layer: unknown;
  try {
    layer = await loadLayer(milestone, target);
  } catch (error) {
    out(red(`${file} does not load: ${describeError(error)}`));
    out('Fix that first (npx tsc --noEmit shows type errors too), then run this again.');
    return outcome(false);
  }

  const environment = await prepareEnvironment(); // BrokerNotFoundError / EnvironmentError go to main
  const { api, broker } = environment;
  const vhost = `demo-${milestone.slug}-${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
  const url = withVhost(broker.url, vhost);
  const connections: ChannelModel[] = [];
  const systems: RunningSystem[] = [];
  const dataDirs: string[] = [];
  const logs = createLogStream();
  const layers = { ...referenceLayers, [milestone.layer]: layer } as Layers;

  let cleanedUp: Promise<void> | undefined;
  const cleanup = () =>
    (cleanedUp ??= (async () => {
      for (const system of systems) await system.stop().catch(() => {});
      for (const connection of connections) await connection.close().catch(() => {});
      await api.deleteVhost(vhost).catch(() => {});
      for (const dir of dataDirs) fs.rmSync(dir, { recursive: true, force: true });
      await broker.stop();
    })());
  // Ctrl-C during a demo still removes its vhost.
  const onSignal = () => {
    out(dim('\nstopping the demo and removing its vhost...'));
    void cleanup().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);

  // What the learner's code throws where nobody awaits it (a consume callback, a forgotten promise)
  // ends the demo with that error instead of crashing with a stack trace.
  let failDemo: (error: unknown) => void = () => {};
  const stray = new Promise<never>((_, reject) => (failDemo = reject));
  let demoRunning = true;
  const lateStrays: unknown[] = [];
  const reportStray = (error: unknown) => (demoRunning ? failDemo(error) : lateStrays.push(error));
  const log = createLogger('demo', { out: (line) => logs.line('demo', line), err: (line) => logs.line('demo', line) });

  const context: DemoContext = {
    layers,
    url,
    management: { ...api.credentials, vhost },
    log,
    async connect() {
      const connection = await amqp.connect(url);
      connection.on('error', () => {}); // a demo that closes connections on purpose must not crash
      // A channel the broker closes (an unknown delivery tag, a redeclaration with other arguments)
      // emits 'error': say it on screen rather than crash.
      for (const method of ['createChannel', 'createConfirmChannel'] as const) {
        const create = connection[method].bind(connection);
        Object.assign(connection, {
          [method]: async (...args: Parameters<typeof create>) => {
            const channel = await create(...args);
            channel.on('error', (error: Error) => log.warn(`the broker closed a channel: ${error.message}`));
            channel.on('handler-error', (error: Error) => reportStray(error));
            return channel;
          },
        });
      }
      connections.push(connection);
      return connection;
    },
    async startSystem(options = {}) {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `demo-${milestone.slug}-`));
      dataDirs.push(dataDir);
      const system = await startSystem({
        brokerUrl: url,
        dataDir,
        services: options.services,
        layers,
        config: { deliveryDelayMs: 300, ...options.config },
        logFor: (service) => createLogger(service, { out: (line) => logs.line(service, line), err: (line) => logs.line(service, line) }),
      });
      systems.push(system);
      return system;
    },
  };

  const whose = target === 'mine' ? `your ${milestone.layer} layer (${file})` : `the reference ${milestone.layer} layer (${file})`;
  out(bold(`Demo: ${whose}`));
  out(dim(`RabbitMQ ${new URL(broker.url).host}, vhost ${vhost} (deleted afterwards)\n`));
  let timer: NodeJS.Timeout | undefined;
  let failure: { error: unknown } | undefined;
  process.on('unhandledRejection', reportStray);
  process.on('uncaughtException', reportStray);
  try {
    await api.createVhost(vhost);
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DemoTimeoutError()), DEMO_TIMEOUT_MS);
    });
    await Promise.race([demo.runDemo(context), timedOut, stray]);
  } catch (error) {
    failure = { error };
  } finally {
    demoRunning = false;
    clearTimeout(timer);
    process.removeListener('SIGINT', onSignal);
    await cleanup(); // services log their last lines while they stop: the verdict comes after them
    // Only now: a timer the learner's code left behind may throw while we clean up.
    process.off('unhandledRejection', reportStray);
    process.off('uncaughtException', reportStray);
  }
  const named = (error: unknown) => `${error instanceof Error ? `${error.name}: ` : ''}${describeError(error)}`;
  out('');
  if (!failure && lateStrays.length === 0) {
    out(green(`The demo finished (${seconds(Date.now() - started)}).`));
    return outcome(true);
  }
  if (!failure) {
    out(red('The demo ran to its end, but your code threw where nobody could catch it (in a callback or a timer):'));
    for (const error of lateStrays) out(red(`  ${named(error)}${placeInExercise(error, milestone) ? ` (at ${placeInExercise(error, milestone)})` : ''}`));
    return outcome(false);
  }
  const { error } = failure;
  const notWritten = findNotWritten(error);
  if (notWritten) {
    out(`🚨 ${notWritten.message}`);
    out(`Write it, then run this again: ${bold(`npm run milestone -- ${milestone.number}`)}`);
  } else if (error instanceof DemoTimeoutError) {
    out(red(`The demo did not finish within ${DEMO_TIMEOUT_MS / 1000} s: it was waiting for something that never happened (a message that never arrived, a reply never sent). The lines above show how far it got.`));
  } else {
    const where = placeInExercise(error, milestone);
    out(red(`The demo stopped: ${named(error)}${where ? ` (at ${where})` : ''}`));
  }
  return outcome(false);
}

class DemoTimeoutError extends Error {
  override name = 'DemoTimeoutError';
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
    if (error instanceof BrokerNotFoundError || error instanceof EnvironmentError) {
      console.error(`${red('error')}: cannot run the demo.\n${error.message}`);
      return 3;
    }
    throw error;
  }
  console.log(`\nNext: ${bold(gradeCommand)} grades it check by check (add --watch to re-grade on save).`);
  return result.ok ? 0 : 1;
}

if (isMain(import.meta.url)) {
  await runCommand(main);
  process.exit(); // a learner's layer may leave a timer or a consumer behind: the demo is over
}
