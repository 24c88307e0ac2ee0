// The demo of `npm run milestone -- N`: the milestone's scenario (grader/milestones/NN-slug/demo.ts)
// run with the learner's layer (or the reference) plugged into the reference layers, on a vhost of
// its own that is deleted afterwards, printing readable [demo] and [service] lines. What goes wrong is said
// in words: a 🚨 pointer for a starter, the line in the learner's file for anything else.
import { withVhost } from '../../shared/broker/broker-url.ts';
import { ExerciseNotWrittenError } from '../../shared/workshop/exercise.ts';
import type { Layers } from '../../shared/layers/index.ts';
import { createLogger, describeError } from '../../shared/log.ts';
import { composeLayers } from '../../solutions/layers/compose.ts';
import { createLogStream } from '../../solutions/supervisor/log-stream.ts';
import type { DemoContext } from '../demo-context.ts';
import type { Milestone } from '../manifest.ts';
import { bold, dim, green, red, seconds, yellow } from '../report/console.ts';
import { loadLayer, prepareEnvironment, type Target } from '../runner.ts';
import { bounded, createSandbox } from '../sandbox.ts';

/** A demo is a short scenario; one still running after this waits for something that will not come. */
const DEMO_TIMEOUT_MS = 30_000;

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
export async function runMilestoneDemo(
  milestone: Milestone,
  target: Target,
  out: (line: string) => void = console.log,
): Promise<DemoOutcome> {
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
  const logs = createLogStream();
  const layers = composeLayers({ [milestone.layer]: layer as Layers[typeof milestone.layer] });

  let cleanedUp: Promise<void> | undefined;
  const cleanup = () =>
    (cleanedUp ??= (async () => {
      await sandbox.cleanup();
      await bounded(() => api.deleteVhost(vhost));
      await broker.stop();
    })());
  // Ctrl-C (or a closed terminal, or `timeout`) during a demo still removes its vhost.
  const onSignal = () => {
    out(dim('\nstopping the demo and removing its vhost...'));
    void cleanup().then(() => process.exit(130));
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const signal of signals) process.once(signal, onSignal);

  // What the learner's code throws where nobody awaits it (a consume callback, a forgotten promise)
  // ends the demo with that error instead of crashing with a stack trace.
  let failDemo: (error: unknown) => void = () => {};
  const stray = new Promise<never>((_, reject) => (failDemo = reject));
  let demoRunning = true;
  const lateStrays: unknown[] = [];
  const reportStray = (error: unknown) => (demoRunning ? failDemo(error) : lateStrays.push(error));
  const log = createLogger('demo', { out: (line) => logs.line('demo', line), err: (line) => logs.line('demo', line) });
  const sandbox = createSandbox({
    url,
    label: `demo-${milestone.slug}`,
    layers,
    onStray: reportStray,
    onChannelError: (error) => log.warn(`the broker closed a channel: ${error.message}`),
    logFor: (service) => createLogger(service, { out: (line) => logs.line(service, line), err: (line) => logs.line(service, line) }),
    systemDefaults: { deliveryDelayMs: 300 },
  });

  const context: DemoContext = {
    layers,
    url,
    management: { ...api.credentials, vhost },
    log,
    connect: sandbox.connect,
    startSystem: sandbox.startSystem,
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
    for (const signal of signals) process.removeListener(signal, onSignal);
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
    for (const error of lateStrays)
      out(red(`  ${named(error)}${placeInExercise(error, milestone) ? ` (at ${placeInExercise(error, milestone)})` : ''}`));
    return outcome(false);
  }
  const { error } = failure;
  const notWritten = findNotWritten(error);
  if (notWritten) {
    out(`🚨 ${notWritten.message}`);
    out(`Write it, then run this again: ${bold(`npm run milestone -- ${milestone.number}`)}`);
  } else if (error instanceof DemoTimeoutError) {
    out(
      red(
        `The demo did not finish within ${DEMO_TIMEOUT_MS / 1000} s: it was waiting for something that never happened (a message that never arrived, a reply never sent). The lines above show how far it got.`,
      ),
    );
  } else {
    const where = placeInExercise(error, milestone);
    out(red(`The demo stopped: ${named(error)}${where ? ` (at ${where})` : ''}`));
  }
  return outcome(false);
}

class DemoTimeoutError extends Error {
  override name = 'DemoTimeoutError';
}
