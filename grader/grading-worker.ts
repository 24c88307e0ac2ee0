// The child process of `npm run grade`: grades one milestone and reports each check over IPC. It
// runs apart from the command so that what the graded code does to its process (process.exit, a
// synchronous endless loop, a crash) ends only this process; the parent says what happened to the
// check that was running and grades the rest in a new one (grading-process.ts).
import { describeError } from '../shared/log.ts';
import { milestone as milestoneNumber } from './manifest.ts';
import { describeThrown, EnvironmentError, gradeMilestone, prepareEnvironment, type Target } from './runner.ts';
import type { SharedRestartConsent } from './broker-control.ts';
import type { ParentMessage, WorkerMessage, WorkerRequest, WorkerResult } from './grading-process.ts';

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

process.once('message', (request: WorkerRequest) => {
  void grade(request).then(
    (result) => sendAndExit({ type: 'done', result }, 0),
    (error: unknown) => {
      const known = error instanceof EnvironmentError || (error instanceof Error && error.name === 'BrokerNotFoundError');
      sendAndExit({ type: 'environment-error', message: known ? (error as Error).message : describeError(error) }, 3);
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
  const environment = await prepareEnvironment({ sharedRestart });
  try {
    const result = await gradeMilestone(environment, milestoneNumber(request.milestone), request.target as Target, {
      skip: new Set(request.skip),
      onCheckStart: (check) => send({ type: 'check-start', id: check.id }),
      onCheck: (check) => send({ type: 'check', result: check }),
      announce: (message) => send({ type: 'announce', message }),
    });
    const { milestone: _milestone, ...rest } = result;
    finished = true;
    return rest;
  } finally {
    await environment.broker.stop();
  }
}
