// 07.client-resources: what a client leaves behind. One reply queue and one consumer whatever its
// calls do, no call held once it timed out, and nothing at all once close() resolved.
import { isDeepStrictEqual } from 'node:util';
import type { ChannelModel } from 'amqplib';
import type { RpcClient } from '../../../shared/layers/07-rpc.ts';
import { describeError } from '../../../shared/log.ts';
import { type Check, type CheckContext, CheckFailure, expectThat } from '../../check.ts';
import { waitFor } from '../../checks/support.ts';
import {
  activeTimers,
  describeOutcome,
  firedTimersHeld,
  freshQueue,
  isTimeout,
  otherQueues,
  type Outcome,
  settle,
  stillHeld,
  watchedChannel,
} from './support.ts';

type Context = CheckContext<'rpc'>;

/** Calls to nobody in 07.client-resources, which all time out. */
const TIMED_OUT = 10;
/** The timeout of 07.client-resources's client: a duration no other timer of the grader has. */
const RESOURCES_TIMEOUT_MS = 317;

/**
 * 10 calls answered and 10 that time out, at the same time. Only weak references to the timeouts'
 * errors are kept: if the client still holds a call, its error stays reachable (up to Node 24), and
 * so does its timer object (on every Node).
 */
async function answeredAndTimedOut(client: RpcClient, served: string, nobody: string): Promise<WeakRef<Error>[]> {
  const calls = [
    ...Array.from({ length: 10 }, (_, n) => settle(client.call(served, { n }), 2000)),
    ...Array.from({ length: TIMED_OUT }, (_, n) => settle(client.call(nobody, { n }), 2000)),
  ];
  const outcomes = await Promise.all(calls);
  const answered = outcomes.slice(0, 10).filter((outcome, n) => 'resolved' in outcome && isDeepStrictEqual(outcome.resolved, { n })).length;
  expectThat(answered === 10, '10 calls to a server to be answered', `${answered} were`);
  const errors = outcomes.slice(10).map((outcome) => ('rejected' in outcome ? outcome.rejected : undefined));
  expectThat(errors.every(isTimeout), `${TIMED_OUT} calls nobody answers to time out`, () =>
    describeOutcome(outcomes.slice(10).find((o) => !('rejected' in o && isTimeout(o.rejected))) as Outcome),
  );
  return errors.map((error) => new WeakRef(error as Error));
}

async function expectOneReplyQueueAndConsumer(context: Context, connection: ChannelModel, known: string[]): Promise<void> {
  const queues = await otherQueues(context, connection, known);
  const consumers = queues.reduce((sum, queue) => sum + queue.consumers, 0);
  expectThat(
    queues.length <= 1,
    'one reply queue for the client, however many calls it makes',
    () =>
      `${queues.length} reply queues after 15 calls (${queues
        .slice(0, 3)
        .map((q) => q.name)
        .join(', ')}…): one per call, never removed`,
    'Declare the reply queue once, in createClient, and use it for every call.',
  );
  expectThat(
    consumers <= 1,
    'one consumer on the reply queue, however many calls the client makes',
    `${consumers} consumers on ${queues[0]?.name}: one per call, never cancelled`,
    'Consume the reply queue once, in createClient; every reply comes through that one consumer.',
  );
}

/** close(): the calls still waiting are rejected now, not at their timeout, and their timers go. Returns the client's channel's errors. */
async function expectCloseRejectsWaiting(context: Context, connection: ChannelModel, nobody: string): Promise<unknown[]> {
  const { layer, onCleanup } = context;
  const second = await watchedChannel(connection, onCleanup);
  const patient = await layer.createClient(second.channel, { timeoutMs: 3000 });
  let patientClosed = false;
  onCleanup(() => (patientClosed ? undefined : patient.close()));
  const timersBefore = activeTimers();
  const waiting = Array.from({ length: 20 }, (_, n) => settle(patient.call(nobody, { n }), 1000));
  await new Promise((resolve) => setImmediate(resolve));
  const closing = await settle(patient.close(), 1000);
  patientClosed = true;
  expectThat('resolved' in closing, 'close() to resolve', describeOutcome(closing));
  const afterClose = await Promise.all(waiting);
  const stillWaiting = afterClose.filter((outcome) => !('rejected' in outcome)).length;
  expectThat(
    stillWaiting === 0,
    'close() to reject the 20 calls still waiting, at once',
    `${stillWaiting} of them were still waiting a second later`,
    'In close(), reject every pending call and empty the map.',
  );
  const timersLeft = activeTimers() - timersBefore;
  expectThat(
    timersLeft < 10,
    "close() to clear the waiting calls' timers",
    `${timersLeft} timers still running after close()`,
    'In close(), clear the timer of every call you reject.',
  );
  return second.thrown;
}

async function expectNothingLeftAfterClose(context: Context, connection: ChannelModel, known: string[]): Promise<void> {
  let left: Array<{ name: string; consumers: number }> = [];
  await waitFor(
    async () => ((left = await otherQueues(context, connection, known)).length === 0 ? true : undefined),
    'no reply queue and no consumer left once both clients are closed',
    () => `${left.map((q) => `${q.name} with ${q.consumers} consumer(s)`).join(', ')} still there after close()`,
    1000,
  ).catch((failure: CheckFailure) => {
    throw new CheckFailure(
      failure.expected,
      failure.seen,
      'In close(), cancel the reply consumer (keep the consumerTag that consume gave you); an auto-delete reply queue then goes by itself.',
    );
  });
}

export const clientResources: Check<'rpc'> = {
  id: '07.client-resources',
  name: 'a client keeps one reply queue and one consumer whatever its calls do, lets go of the calls that timed out, and close() leaves nothing behind',
  hint: 'Declare and consume the reply queue once, in createClient; delete a call from the pending map when it settles, however it settles; close() rejects the calls still waiting, clears their timers and cancels the consumer.',
  after: ['07.concurrent-calls', '07.timeout'],
  async run(context) {
    const { layer, reference, connect, onCleanup } = context;
    const connection = await connect();
    const setup = await connection.createChannel();
    const served = await freshQueue(setup);
    const nobody = await freshQueue(setup);
    await reference.rpc.serve(await connection.createChannel(), served, async (request) => request);
    const { channel, thrown } = await watchedChannel(connection, onCleanup);
    const client = await layer.createClient(channel, { timeoutMs: RESOURCES_TIMEOUT_MS });
    let closed = false;
    onCleanup(() => (closed ? undefined : client.close()));

    const firedBefore = await firedTimersHeld(RESOURCES_TIMEOUT_MS);
    const timedOut = await answeredAndTimedOut(client, served, nobody);
    await expectOneReplyQueueAndConsumer(context, connection, [served, nobody]);
    const held = Math.max(await stillHeld(timedOut), (await firedTimersHeld(RESOURCES_TIMEOUT_MS)) - firedBefore);
    expectThat(
      held === 0,
      'a call that timed out to be gone from the client',
      `${held} of the ${TIMED_OUT} calls that timed out are still held by your client (in its pending calls?)`,
      'When a call times out, delete it from your pending calls as well as rejecting it: nobody will ever settle it again.',
    );

    const secondThrown = await expectCloseRejectsWaiting(context, connection, nobody);
    await settle(client.close(), 1000);
    closed = true;
    await expectNothingLeftAfterClose(context, connection, [served, nobody]);
    expectThat(
      thrown.length === 0 && secondThrown.length === 0,
      'no errors on the client channels',
      () => `your code threw: ${describeError(thrown[0] ?? secondThrown[0])}`,
    );
  },
};
