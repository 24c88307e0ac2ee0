// The child process of `npm run grade`: grades one milestone and reports each check over IPC. It
// runs apart from the command so that what the graded code does to its process (process.exit, a
// synchronous endless loop, a crash) ends only this process; the parent says what happened to the
// check that was running and grades the rest in a new one (grading-process.ts).
// It may be started before the broker is found (argv: the milestone to load the checks of meanwhile);
// the learner's file is imported only once the request comes.
import { AsyncLocalStorage } from 'node:async_hooks';
import { EXIT_STATUS, toWire } from '../shared/cli/errors.ts';
import { milestone as milestoneNumber } from './manifest.ts';
import { gradeMilestone, prepareEnvironment, type Target } from './runner.ts';
import { loadSystem } from './sandbox.ts';
import { describeThrown } from './verdict.ts';
import type { SharedRestartConsent } from './broker-control.ts';
import type { ParentMessage, WorkerMessage, WorkerRequest, WorkerResult } from './grading-messages.ts';

const send = (message: WorkerMessage) => process.send?.(message);
/** Sends, then exits once the message is out (an exit right after a plain send may lose it). */
const sendAndExit = (message: WorkerMessage, code: number) => {
  if (!process.send) process.exit(code);
  process.send(message, () => process.exit(code));
};

// A heartbeat: when it stops while the event loop should be free, the graded code is blocking it.
setInterval(() => send({ type: 'heartbeat' }), 250).unref();

// After the milestone's result is sent, what the graded code left behind can still throw: say so.
let finished = false;
const late = (error: unknown) => {
  if (finished) send({ type: 'late', message: describeThrown(error) });
};
process.on('unhandledRejection', late);
process.on('uncaughtException', late);

// What the graded code prints (console.log in the learner's layer) goes to the parent as 'output',
// with the check it was printed in (the async context the check started, so also for the checks of
// a milestone that runs them at once), to be shown apart under that check instead of amid the list.
const runningCheck = new AsyncLocalStorage<string>();
let lastStarted: string | undefined;
/** Per check, at most this much is sent; the rest is only counted (a layer that logs every message). */
const OUTPUT_LIMIT = 4000;
const sent = new Map<string, number>();
/** Lines past the limit, per check: sent as one count before the check's result (a flood is not a flood of messages). */
const dropped = new Map<string, number>();
const sendDropped = () => {
  for (const [key, lines] of dropped) send({ type: 'output', ...(key ? { id: key } : {}), text: '', dropped: lines });
  dropped.clear();
};
const captureStream = (stream: NodeJS.WriteStream) => {
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const id = runningCheck.getStore() ?? lastStarted;
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const key = id ?? '';
    const already = sent.get(key) ?? 0;
    sent.set(key, already + text.length);
    if (already < OUTPUT_LIMIT) send({ type: 'output', ...(id ? { id } : {}), text: text.slice(0, OUTPUT_LIMIT - already) });
    else dropped.set(key, (dropped.get(key) ?? 0) + (text.split('\n').length - 1 || 1));
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof stream.write;
};
captureStream(process.stdout);
captureStream(process.stderr);

// Started ahead of its request: load the milestone's checks, and the reference system where they
// start it, now, while the command finds the broker (on the other core).
const ahead = Number(process.argv[2]);
if (Number.isInteger(ahead) && ahead > 0) {
  const warming = milestoneNumber(ahead);
  void warming
    .checks()
    .then(() => (warming.startsTheSystem ? loadSystem() : undefined))
    .catch(() => {});
}

/** The checks' vhosts still being deleted when the result is ready: the verdict goes out first. */
const deletions: Promise<void>[] = [];
/** How long the child stays, after its result, for them; what is left then, the next grading sweeps (environment.ts). */
const DELETIONS_MS = 800;

process.once('message', (request: WorkerRequest) => {
  void grade(request).then(
    (result) => {
      const exitOnceDeleted = () => {
        const timer = setTimeout(() => process.exit(0), DELETIONS_MS);
        void Promise.all(deletions).then(() => {
          clearTimeout(timer);
          process.exit(0);
        });
      };
      if (process.send) process.send({ type: 'done', result } satisfies WorkerMessage, exitOnceDeleted);
      else exitOnceDeleted();
    },
    (error: unknown) => {
      // Its kind goes with it (the environment's, a bug), for the parent to say and exit with.
      const wire = toWire(error);
      sendAndExit({ type: 'error', error: wire }, EXIT_STATUS[wire.kind]);
    },
  );
});

/** Asks the parent, which has the terminal, and waits for the learner's answer. */
function askParent(question: string): Promise<boolean> {
  return new Promise((resolve) => {
    const onAnswer = (message: ParentMessage) => {
      if (message?.type !== 'restart-answer') return;
      process.off('message', onAnswer);
      resolve(message.yes);
    };
    process.on('message', onAnswer);
    send({ type: 'restart-question', question });
  });
}

async function grade(request: WorkerRequest): Promise<WorkerResult> {
  const consent = request.sharedRestart;
  const sharedRestart: SharedRestartConsent = consent.kind === 'ask' ? { kind: 'ask', ask: askParent } : consent;
  const milestone = milestoneNumber(request.milestone);
  // The parent needs their names before any can end this process (it names the check that did).
  const all = await milestone.checks().catch(() => []);
  // GRADER_ONLY_CHECKS (ids, comma-separated): a test seam, so that the under-load test and bench
  // grade only the checks they are about through this path; the others are neither run nor reported.
  const only = process.env.GRADER_ONLY_CHECKS?.split(',');
  const checks = only ? all.filter((check) => only.includes(check.id)) : all;
  const notGraded = all.filter((check) => !checks.includes(check)).map((check) => check.id);
  send({ type: 'checks', checks: checks.map(({ id, name, hint }) => ({ id, name, hint })) });
  if (request.broker) {
    process.env.RABBITMQ_URL = request.broker.url;
    process.env.RABBITMQ_MANAGEMENT_URL = request.broker.managementUrl;
  }
  const environment = await prepareEnvironment({ sharedRestart, verified: request.broker !== undefined });
  try {
    const result = await gradeMilestone(environment, milestone, request.target as Target, {
      skip: new Set([...request.skip, ...notGraded]),
      onCheckStart: (check) => {
        lastStarted = check.id;
        // The rest of this check's run, and what it starts (services, timers), carries its id.
        runningCheck.enterWith(check.id);
        send({ type: 'check-start', id: check.id });
      },
      onCheck: (check) => {
        sendDropped();
        send({ type: 'check', result: check });
      },
      announce: (message) => send({ type: 'announce', message }),
      leaveDeletions: (pending) => deletions.push(pending),
    });
    const { milestone: _milestone, ...rest } = result;
    finished = true;
    return rest;
  } finally {
    await environment.broker.stop();
  }
}
