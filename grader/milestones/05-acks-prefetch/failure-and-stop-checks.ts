// Milestone 5's checks on the consumer's edges: a handler that throws goes to onFailure, stop()
// waits for what is in hand, and a consumer the broker cancels calls onCancelled.
import type { ConfirmChannel } from 'amqplib';
import { ExerciseNotWrittenError } from '../../../shared/workshop/exercise.ts';
import { describeError } from '../../../shared/log.ts';
import { type Check, expectThat } from '../../check.ts';
import { waitFor } from '../../checks/support.ts';
import {
  type AcksContext,
  body,
  consumerChannel,
  drop,
  FAILURE_HINT,
  gate,
  IN_FLIGHT_HINT,
  nextTurn,
  observer,
  queueWith,
  ready,
  stopEndedEarly,
  UNACKED_HINT,
  waitOpen,
  watch,
  watchEscapes,
  withHint,
} from './support.ts';

/**
 * The error the check's own onFailure throws. Your consume may well log it (it should carry on): it
 * has no stack trace, so the log shows one line, not the grader's insides.
 */
function unreachable(): Error {
  const error = new Error("the retry queue is unreachable (thrown on purpose by the check's onFailure)");
  error.stack = `Error: ${error.message}`;
  return error;
}

export const failure: Check<'acks'> = {
  id: '05.failure',
  name: 'a handler that throws goes to onFailure (not acked by consume), and the next message is still handled, even when onFailure throws',
  hint: 'A failed message belongs to onFailure (it retries or parks it): consume must not ack it. Whatever onFailure does, throwing included, the consumer goes on with the next message.',
  async run(context) {
    const assertNothingEscaped = watchEscapes(context);
    const admin = await observer(context);
    const queue = await queueWith(admin, 'check.failure', ['bad', 'worse', 'ok-1', 'ok-2']);
    const consumerChan = await consumerChannel(context);
    const { channel } = consumerChan;
    const handled: string[] = [];
    const failures: { body: string; error: unknown; sameChannel: boolean }[] = [];
    const thrown = new Map<string, Error>([
      ['bad', new Error('cannot reserve stock for bad')],
      ['worse', new Error('cannot reserve stock for worse')],
    ]);
    // onFailure holds the failed messages without settling them, so the check can see whether consume
    // acked them; for "worse" it also throws, as when layer 6 cannot reach the retry queue.
    await context.layer.consume(
      channel,
      queue,
      async (message) => {
        const error = thrown.get(body(message));
        if (error) throw error;
        handled.push(body(message));
      },
      {
        prefetch: 3,
        onFailure: async (failedOn, message, error) => {
          failures.push({ body: body(message), error, sameChannel: failedOn === channel });
          if (body(message) === 'worse') throw unreachable();
        },
      },
    );

    // ok-2 comes after "bad" and "worse": once it is handled, their handlers threw long ago.
    await waitOpen(
      consumerChan,
      () => (failures.length >= 2 || handled.length === 2 ? true : undefined),
      'onFailure to be called for the 2 messages whose handler threw',
      () => `onFailure called ${failures.length}× (handled: ${handled.join(', ') || 'nothing'})`,
      1500,
      FAILURE_HINT,
    );
    await withHint(
      waitFor(
        () => (failures.length >= 2 ? true : undefined),
        'onFailure to be called for the 2 messages whose handler threw',
        () => `onFailure called ${failures.length}× (handled: ${handled.join(', ')})`,
        300,
      ),
      FAILURE_HINT,
    );
    expectThat(
      failures
        .map((f) => f.body)
        .sort()
        .join() === 'bad,worse',
      'onFailure called once each for "bad" and "worse"',
      () => `it was called for ${failures.map((f) => f.body).join(', ')}`,
    );
    const wrong = failures.find((f) => f.error !== thrown.get(f.body) || !f.sameChannel);
    const otherChannel = wrong?.sameChannel ? '' : ', and another channel';
    expectThat(
      !wrong,
      "onFailure(channel, message, error) with the consumer's channel and the handler's own error",
      () => `for ${wrong?.body}: error ${describeError(wrong?.error)}${otherChannel}`,
    );
    await waitOpen(
      consumerChan,
      () => (handled.length === 2 ? true : undefined),
      'the messages after them (ok-1, ok-2) to be handled',
      () =>
        `handled: ${handled.join(', ') || 'nothing'}, then nothing more was delivered: with prefetch 3, the 2 failed messages (left to onFailure) and any message not acked hold all 3 places`,
      1500,
      UNACKED_HINT,
    );
    await nextTurn();
    await nextTurn();
    assertNothingEscaped(
      'onFailure may throw too (it publishes, and publishing can fail): catch its error and log it, or it escapes and ends the service.',
    );
    consumerChan.assertOpen();

    await consumerChan.close(); // "bad" and "worse" were never settled: unless consume acked them behind onFailure's back, they return to the queue
    const back = await ready(admin, queue);
    const seen =
      back < 2
        ? `${back} back: consume acked ${2 - back} failed message(s) itself, and a failed message acked is lost`
        : `${back} messages`;
    expectThat(
      back === 2,
      '"bad" and "worse" back in the queue once the channel closed (onFailure had not settled them, so consume must not have either)',
      seen,
    );
  },
};

/** stop() cancels the consumer first: none left on the queue, one more round trip done on its channel. */
async function waitForCancel(admin: ConfirmChannel, channel: ConfirmChannel, queue: string, stillRegistered: string): Promise<void> {
  await waitFor(
    async () => ((await admin.checkQueue(queue)).consumerCount === 0 ? true : undefined),
    'stop() to cancel the consumer (no consumer left on the queue)',
    () => stillRegistered,
    1500,
  );
  await channel.checkQueue(queue).catch(() => {}); // one more round trip on its channel: any cancel-ok has arrived
  await nextTurn();
}

/** Once what held stop() back is over, it resolves and nothing is in flight. */
async function expectStopResolves(stopping: ReturnType<typeof watch>, consumer: { inFlight(): number }, expected: string): Promise<void> {
  await waitFor(
    () => (stopping().state !== 'pending' ? true : undefined),
    expected,
    () => 'it never resolved',
    1500,
  );
  expectThat(
    stopping().state === 'resolved',
    'stop() to resolve',
    () => `it rejected: ${describeError((stopping() as { error: unknown }).error)}`,
  );
  expectThat(consumer.inFlight() === 0, 'inFlight() = 0 after stop()', `inFlight() = ${consumer.inFlight()}`, IN_FLIGHT_HINT);
}

/**
 * The second half of 05.stop-waits: a handler throws, and onFailure (the check's) holds the message
 * until the check lets it go, as layer 6 does while it waits for the broker's confirm of a parked
 * copy. Meanwhile the delivery is in flight and stop() waits; once onFailure has nacked it, stop()
 * resolves and the message is gone from the queue.
 */
async function stopWhileOnFailureRuns(context: AcksContext, admin: ConfirmChannel): Promise<void> {
  const queue = await queueWith(admin, 'check.stop-failure', ['failing']);
  const consumerChan = await consumerChannel(context);
  const { channel } = consumerChan;
  const settling = gate();
  let failures = 0;
  const consumer = await context.layer.consume(
    channel,
    queue,
    async (message) => {
      throw new Error(`cannot reserve stock for ${body(message)}`);
    },
    {
      prefetch: 1,
      onFailure: async (failedOn, message) => {
        failures++;
        await settling.opened;
        failedOn.nack(message, false, false);
      },
    },
  );
  await waitOpen(
    consumerChan,
    () => (failures > 0 ? true : undefined),
    'onFailure to be called for "failing", whose handler threw',
    () => 'it never was',
  );

  const stopping = watch(consumer.stop());
  await waitForCancel(admin, channel, queue, 'the consumer was still registered');
  const early = stopping();
  expectThat(
    early.state === 'pending',
    'stop() still waiting while onFailure was settling "failing"',
    stopEndedEarly(early, 'onFailure, before it parked or retried the message'),
  );
  expectThat(
    consumer.inFlight() === 1,
    'inFlight() = 1 while onFailure is still settling "failing"',
    `inFlight() = ${consumer.inFlight()}`,
    IN_FLIGHT_HINT,
  );

  settling.open();
  await expectStopResolves(stopping, consumer, 'stop() to resolve once onFailure had settled "failing"');
  consumerChan.assertOpen();
  await consumerChan.close();
  const left = await ready(admin, queue);
  expectThat(
    left === 0,
    '"failing" settled by onFailure before stop() resolved: the queue empty',
    `${left}: it came back, so it was not settled`,
  );
}

export const stopWaits: Check<'acks'> = {
  id: '05.stop-waits',
  name: 'stop() cancels the consumer, then waits for the message in progress to be handled and acked',
  hint: 'stop() has two jobs, in this order of effect: no new deliveries, then no return before every delivery in hand is settled. That needs a record of the deliveries in hand.',
  // It counts on prefetch 1 holding one delivery at a time: a prefetch that does not apply shows here too.
  after: ['05.prefetch'],
  async run(context) {
    const admin = await observer(context);
    const queue = await queueWith(admin, 'check.stop', ['slow', 'next']);
    const consumerChan = await consumerChannel(context);
    const { channel } = consumerChan;
    const slow = gate();
    const handled: string[] = [];
    const consumer = await context.layer.consume(
      channel,
      queue,
      async (message) => {
        handled.push(body(message));
        await slow.opened;
      },
      { prefetch: 1, onFailure: drop },
    );
    await waitOpen(
      consumerChan,
      () => (handled.length > 0 ? true : undefined),
      'the consumer to start on "slow"',
      () => 'nothing delivered',
    );

    const stopping = watch(consumer.stop());
    await waitForCancel(
      admin,
      channel,
      queue,
      'the consumer was still registered: stop() must cancel it before waiting, or new deliveries keep coming',
    );
    const early = stopping();
    if (early.state === 'rejected' && early.error instanceof ExerciseNotWrittenError) throw early.error;
    expectThat(early.state === 'pending', 'stop() still waiting while "slow" was being handled', stopEndedEarly(early, 'the handler'));
    expectThat(consumer.inFlight() === 1, 'inFlight() = 1 while "slow" is handled', `inFlight() = ${consumer.inFlight()}`, IN_FLIGHT_HINT);

    slow.open();
    await expectStopResolves(stopping, consumer, 'stop() to resolve once "slow" was done');
    await channel.checkQueue(queue).catch(() => {}); // a delivery of "next" already on its way has arrived now
    await nextTurn();
    expectThat(handled.join() === 'slow', 'no delivery after stop() ("next" stays in the queue)', `handled ${handled.join(', ')}`);
    consumerChan.assertOpen();
    await consumerChan.close();
    const left = await ready(admin, queue);
    const slowCameBack = left === 2 ? ': "slow" came back, it was not acked' : '';
    expectThat(left === 1, '"slow" acked before stop() resolved, "next" still waiting: 1 message in the queue', `${left}${slowCameBack}`);

    // A delivery whose handler threw is in hand too, until onFailure has settled it.
    await stopWhileOnFailureRuns(context, admin);
  },
};

export const cancelled: Check<'acks'> = {
  id: '05.cancelled',
  name: 'when the broker cancels the consumer (its queue deleted), onCancelled is called',
  hint: 'When the broker cancels a consumer, amqplib calls the consume callback once more, with null: that is not a message.',
  async run(context) {
    const assertNothingEscaped = watchEscapes(context);
    const admin = await observer(context);
    const queue = await queueWith(admin, 'check.cancelled', []);
    const { channel } = await consumerChannel(context);
    let cancelledTimes = 0;
    let handled = 0;
    const failures: unknown[] = [];
    await context.layer.consume(channel, queue, async () => void handled++, {
      prefetch: 1,
      onFailure: async (_channel, _message, error) => void failures.push(error),
      onCancelled: () => void cancelledTimes++,
    });
    await admin.deleteQueue(queue);
    await waitFor(
      () => (cancelledTimes > 0 || handled > 0 || failures.length > 0 ? true : undefined),
      'onCancelled to be called once the queue was deleted',
      () => 'it was not called',
      1500,
    );
    await nextTurn();
    expectThat(
      cancelledTimes === 1 && handled === 0 && failures.length === 0,
      'onCancelled called once, and neither the handler nor onFailure',
      `onCancelled ${cancelledTimes}×, handler ${handled}×, onFailure ${failures.length}×`,
    );
    assertNothingEscaped();
  },
};
