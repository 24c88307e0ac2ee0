// Milestone 5's checks on deliveries and their acks: what a crashed consumer held comes back,
// prefetch bounds what is in flight, and every delivery is settled exactly once.
import type { ConsumeMessage } from 'amqplib';
import type { ConsumerHandle } from '../../../shared/layers/05-acks-prefetch.ts';
import { ExerciseNotWrittenError } from '../../../shared/workshop/exercise.ts';
import { describeError } from '../../../shared/log.ts';
import { type Check, CheckFailure, expectThat } from '../../check.ts';
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
  UNACKED_HINT,
  waitOpen,
  watch,
  watchEscapes,
  withHint,
} from './support.ts';

const ACK_MULTIPLE_HINT =
  'channel.ack(message) answers for that one delivery; with its second argument (allUpTo) true it also acks every earlier one on the channel, finished or not.';
const REQUEUE_HINT =
  "amqplib's nack and reject requeue unless told otherwise: a message that fails every time then comes back at once, forever. A failed message is onFailure's to settle.";

/** The second consumer gets the 3 messages the first one held when it crashed, each redelivered, and not order-2. */
async function expectHeldMessagesBack(context: AcksContext, queue: string) {
  const second = await consumerChannel(context);
  const received: ConsumeMessage[] = [];
  const consumer = await context.layer.consume(second.channel, queue, async (message) => void received.push(message), {
    prefetch: 5,
    onFailure: drop,
  });
  const held = ['order-1', 'order-3', 'order-4'];
  const lost = () => held.filter((order) => !received.some((message) => body(message) === order));
  const expected =
    'the 3 messages the first consumer was still handling (order-1, order-3, order-4) to be delivered again to the second consumer';
  await waitOpen(
    second,
    () => (lost().length === 0 ? true : undefined),
    expected,
    () => {
      const them = lost().length === 1 ? 'it' : 'them';
      return `${lost().join(', ')} never came back: the broker had counted ${them} as acknowledged while still being handled, so the crash lost ${them}`;
    },
    1500,
  ).catch((error: unknown) => {
    // Some lost, not all: acked along with order-2, the one that had finished.
    const partly = error instanceof CheckFailure && error.expected === expected && lost().length < held.length;
    throw partly ? new CheckFailure(error.expected, `${error.seen} (acked together with order-2?)`, ACK_MULTIPLE_HINT) : error;
  });
  await second.channel.checkQueue(queue).catch(() => {}); // a round trip: any delivery of order-2 has arrived
  await nextTurn();
  expectThat(
    received.every((message) => message.fields.redelivered),
    'each to arrive with redelivered = true',
    'a message marked as a first delivery',
  );
  expectThat(
    !received.some((message) => body(message) === 'order-2'),
    'order-2, whose handler had finished, not to come back',
    'order-2 came back: it was never acked',
  );
  return { second, consumer };
}

/** A service that lost its connection still stops its old consumers: that must not throw. */
async function expectStopOnClosedChannel(crashed: ConsumerHandle): Promise<void> {
  const stopped = watch(crashed.stop());
  await waitFor(
    () => (stopped().state === 'pending' ? undefined : true),
    "the first consumer's stop() to end although its channel had closed",
    () => 'it never resolved',
    1000,
  );
  const outcome = stopped();
  if (outcome.state === 'rejected' && outcome.error instanceof ExerciseNotWrittenError) throw outcome.error;
  expectThat(
    outcome.state === 'resolved',
    'stop() to resolve on a channel that has closed (its consumer is gone already)',
    () => `it rejected: ${describeError((outcome as { error: unknown }).error)}`,
    'On a closed channel there is no consumer left to cancel, and cancelling throws: stop() can let that go.',
  );
}

export const redelivered: Check<'acks'> = {
  id: '05.redelivered',
  name: 'messages a consumer held when its connection died come back to the next consumer, none lost',
  hint: 'A message must stay unacknowledged while its handler runs: consume with manual acks, and ack only once the handler has resolved.',
  async run(context) {
    const assertNothingEscaped = watchEscapes(context);
    const admin = await observer(context);
    const queue = await queueWith(admin, 'check.redelivered', ['order-1', 'order-2', 'order-3', 'order-4']);

    // The first consumer takes all four; order-2 is done at once, the others get stuck.
    const first = await consumerChannel(context);
    const stuck = gate();
    let started = 0;
    let finished = 0;
    const crashed = await context.layer.consume(
      first.channel,
      queue,
      async (message) => {
        started++;
        if (body(message) !== 'order-2') await stuck.opened;
        finished++;
      },
      { prefetch: 5, onFailure: drop },
    );
    await waitOpen(
      first,
      () => (started === 4 && finished === 1 ? true : undefined),
      'the first consumer to be handling all 4 messages, done with order-2',
      () => `it had started ${started} and finished ${finished}`,
    );

    await first.close(); // as when its process crashes: the broker takes back what was not acked
    const { second, consumer } = await expectHeldMessagesBack(context, queue);

    // The stuck handlers finish now; their acks meet a closed channel, which must not crash anything.
    stuck.open();
    await waitFor(
      () => (finished === 4 ? true : undefined),
      "the first consumer's handlers to finish",
      () => `${finished} finished`,
    );
    await nextTurn();
    await nextTurn();
    assertNothingEscaped();
    await expectStopOnClosedChannel(crashed);

    await consumer.stop();
    second.assertOpen();
    await second.close();
    const left = await ready(admin, queue);
    expectThat(
      left === 0,
      'the queue empty once the second consumer acked everything',
      `${left} message(s) back in the queue: they were never acked`,
    );
  },
};

export const prefetch: Check<'acks'> = {
  id: '05.prefetch',
  name: 'with prefetch 3 and a slow handler, exactly 3 messages are in flight, never more',
  hint: 'The limit is set on the channel, and applies to consumers started after it. The broker ignores it for a consumer that does not ack.',
  async run(context) {
    const admin = await observer(context);
    const queue = await queueWith(
      admin,
      'check.prefetch',
      Array.from({ length: 10 }, (_, i) => `order-${i + 1}`),
    );
    const consumerChan = await consumerChannel(context);
    const slow = gate();
    let running = 0;
    let mostAtOnce = 0;
    let done = 0;
    const consumer = await context.layer.consume(
      consumerChan.channel,
      queue,
      async () => {
        mostAtOnce = Math.max(mostAtOnce, ++running);
        await slow.opened;
        running--;
        done++;
      },
      { prefetch: 3, onFailure: drop },
    );

    // Settled: everything is either waiting in the queue or in a handler, none in transit.
    let inQueue = 10;
    const waiting = await waitOpen(
      consumerChan,
      async () => {
        inQueue = await ready(admin, queue);
        return running >= 3 && inQueue + running === 10 ? inQueue : undefined;
      },
      'exactly 3 messages in flight (prefetch 3), the other 7 waiting in the queue',
      () => `${running} in flight and ${inQueue} waiting`,
    );
    expectThat(
      running === 3 && waiting === 7,
      'exactly 3 messages in flight and 7 still waiting in the queue',
      `${running} in flight and ${waiting} waiting`,
    );
    expectThat(consumer.inFlight() === 3, 'inFlight() to say 3', `inFlight() = ${consumer.inFlight()}`, IN_FLIGHT_HINT);

    slow.open();
    await waitOpen(
      consumerChan,
      () => (done === 10 ? true : undefined),
      'all 10 messages handled once the handler speeds up',
      () => `${done} handled, then nothing more: the deliveries in hand were never acked, so the prefetch of 3 stayed used up`,
      1500,
      UNACKED_HINT,
    );
    expectThat(mostAtOnce === 3, 'never more than 3 handled at once', `${mostAtOnce} at once`);
    await consumer.stop();
    expectThat(
      consumer.inFlight() === 0,
      'inFlight() = 0 once every message is handled',
      `inFlight() = ${consumer.inFlight()}`,
      IN_FLIGHT_HINT,
    );
    await consumerChan.close();
    const left = await ready(admin, queue);
    expectThat(left === 0, 'every message acked (the queue empty)', `${left} message(s) back in the queue`);
  },
};

export const settledOnce: Check<'acks'> = {
  id: '05.settled-once',
  name: 'every delivery is settled exactly once: acked once on success, left to onFailure on failure, never forgotten',
  hint: 'Each delivery gets exactly one answer: the ack when its handler resolved, or whatever onFailure does with it. Twice closes the channel; never stalls the consumer once prefetch is used up.',
  after: ['05.prefetch'],
  async run(context) {
    const admin = await observer(context);
    const bodies = ['ok-1', 'fail-1', 'ok-2', 'ok-3', 'fail-2', 'ok-4', 'ok-5', 'ok-6'];
    const queue = await queueWith(admin, 'check.settled-once', bodies);
    const consumerChan = await consumerChannel(context);
    const calls = new Map<string, number>();
    const failed: string[] = [];
    // onFailure settles what it is given, as layer 6 does (it parks or retries, then acks).
    const consumer = await context.layer.consume(
      consumerChan.channel,
      queue,
      async (message) => {
        calls.set(body(message), (calls.get(body(message)) ?? 0) + 1);
        if (body(message).startsWith('fail')) throw new Error(`cannot reserve stock for ${body(message)}`);
      },
      {
        prefetch: 2,
        onFailure: async (channel, message) => {
          failed.push(body(message));
          channel.nack(message, false, false);
        },
      },
    );

    const handled = () => [...calls.values()].reduce((sum, n) => sum + n, 0);
    // A message handled twice on a channel that stays open was put back in the queue: no need to wait longer.
    const repeated = () => [...calls].filter(([, n]) => n > 1).map(([b, n]) => `${b} ×${n}`);
    await waitOpen(
      consumerChan,
      () => (calls.size === bodies.length || repeated().length > 0 ? true : undefined),
      'all 8 messages handled with prefetch 2 (6 succeed, 2 fail and go to onFailure, which settles them)',
      () =>
        `${calls.size} of 8 handled, then nothing more: the consumer stalled, its 2 deliveries never settled, so prefetch 2 stayed used up`,
      1500,
      UNACKED_HINT,
    );
    expectThat(
      repeated().length === 0,
      'each message handled once',
      () => `${repeated().join(', ')}: a failed message went straight back to the queue, again and again, instead of to onFailure`,
      REQUEUE_HINT,
    );
    await withHint(
      waitFor(
        () => (failed.length === 2 ? true : undefined),
        'onFailure called for the 2 failures, fail-1 and fail-2',
        () => `onFailure called for ${failed.length} of them (${failed.join(', ') || 'none'})`,
        300,
      ),
      FAILURE_HINT,
    );
    // The last handler has run; what follows it (the ack, onFailure) may still be a few promise turns away.
    await withHint(
      waitFor(
        () => (consumer.inFlight() === 0 ? true : undefined),
        'inFlight() = 0 once all 8 are handled, the failed ones included',
        () => `inFlight() = ${consumer.inFlight()}`,
        500,
      ),
      IN_FLIGHT_HINT,
    );
    const stopped = watch(consumer.stop());
    await waitFor(
      () => (stopped().state === 'pending' ? undefined : true),
      'stop() to resolve, nothing being handled any more',
      () => 'it never resolved: it waits for deliveries that are over',
      1000,
    );
    await admin.checkQueue(queue); // a round trip: a channel close the broker sent is in by now
    await consumerChan.channel.checkQueue(queue).catch(() => {});
    consumerChan.assertOpen();
    expectThat(
      handled() === bodies.length,
      'each message handled exactly once',
      () => `${repeated().join(', ')}: it came back, so it was not settled`,
    );
    expectThat(failed.length === 2, 'onFailure called once for each of fail-1 and fail-2', () => `onFailure got ${failed.join(', ')}`);
    await consumerChan.close();
    const left = await ready(admin, queue);
    expectThat(
      left === 0,
      'nothing back in the queue once the channel closed (every delivery settled)',
      `${left} message(s) back in the queue: they were never settled`,
    );
  },
};
