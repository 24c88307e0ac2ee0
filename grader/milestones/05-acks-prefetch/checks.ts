// Milestone 5: manual acks, prefetch and idempotency. Each check runs the layer's consumer on a real
// queue with a handler the check controls (it can hold a message "in progress" as long as it likes),
// then looks at what the broker kept, redelivered or let go; processOnce runs on an SQLite store
// that can fail on purpose, or let a second worker handle the same message id.
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import { ExerciseNotWrittenError } from '../../../shared/workshop/exercise.ts';
import { describeError } from '../../../shared/log.ts';
import { CheckFailure, defineChecks, expectThat } from '../../check.ts';
import { waitFor } from '../../checks/support.ts';
import { type AcksContext, body, consumerChannel, drop, gate, inventoryStore, nextTurn, observer, queueWith, ready, thrownBy, waitOpen, watch, watchEscapes, withHint } from './support.ts';

const UNACKED_HINT = 'Prefetch counts deliveries not yet settled: a message whose handler resolved must be acked, or its place is never given back.';
const ACK_MULTIPLE_HINT = "channel.ack(message) answers for that one delivery; with its second argument (allUpTo) true it also acks every earlier one on the channel, finished or not.";
const REQUEUE_HINT = "amqplib's nack and reject requeue unless told otherwise: a message that fails every time then comes back at once, forever. A failed message is onFailure's to settle.";
const IN_FLIGHT_HINT = 'inFlight() counts the deliveries whose handling has started and not finished: add one when it starts, remove it when it ends, failures included.';
const FAILURE_HINT = 'A handler that throws: its message, the channel and the error go to onFailure. Not a nack of your own (amqplib requeues by default: a loop), not an ack.';

/**
 * The error the check's own onFailure throws. Your consume may well log it (it should carry on): it
 * has no stack trace, so the log shows one line, not the grader's insides.
 */
function unreachable(): Error {
  const error = new Error('the retry queue is unreachable (thrown on purpose by the check\'s onFailure)');
  error.stack = `Error: ${error.message}`;
  return error;
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
  const consumer = await context.layer.consume(channel, queue, async (message) => {
    throw new Error(`cannot reserve stock for ${body(message)}`);
  }, {
    prefetch: 1,
    onFailure: async (failedOn, message) => {
      failures++;
      await settling.opened;
      failedOn.nack(message, false, false);
    },
  });
  await waitOpen(consumerChan, () => (failures > 0 ? true : undefined), 'onFailure to be called for "failing", whose handler threw', () => 'it never was');

  const stopping = watch(consumer.stop());
  await waitFor(
    async () => ((await admin.checkQueue(queue)).consumerCount === 0 ? true : undefined),
    'stop() to cancel the consumer (no consumer left on the queue)',
    () => 'the consumer was still registered',
    1500,
  );
  await channel.checkQueue(queue).catch(() => {}); // one more round trip on its channel: any cancel-ok has arrived
  await nextTurn();
  const early = stopping();
  expectThat(
    early.state === 'pending',
    'stop() still waiting while onFailure was settling "failing"',
    early.state === 'resolved' ? 'stop() had already resolved: a service shutting down now would close its channel under onFailure, before it parked or retried the message' : `stop() rejected: ${describeError((early as { error: unknown }).error)}`,
  );
  expectThat(consumer.inFlight() === 1, 'inFlight() = 1 while onFailure is still settling "failing"', `inFlight() = ${consumer.inFlight()}`, IN_FLIGHT_HINT);

  settling.open();
  await waitFor(() => (stopping().state !== 'pending' ? true : undefined), 'stop() to resolve once onFailure had settled "failing"', () => 'it never resolved', 1500);
  expectThat(stopping().state === 'resolved', 'stop() to resolve', () => `it rejected: ${describeError((stopping() as { error: unknown }).error)}`);
  expectThat(consumer.inFlight() === 0, 'inFlight() = 0 after stop()', `inFlight() = ${consumer.inFlight()}`, IN_FLIGHT_HINT);
  consumerChan.assertOpen();
  await consumerChan.close();
  const left = await ready(admin, queue);
  expectThat(left === 0, '"failing" settled by onFailure before stop() resolved: the queue empty', `${left}: it came back, so it was not settled`);
}

export const checks = defineChecks('acks', [
  {
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
      const crashed = await context.layer.consume(first.channel, queue, async (message) => {
        started++;
        if (body(message) !== 'order-2') await stuck.opened;
        finished++;
      }, { prefetch: 5, onFailure: drop });
      await waitOpen(first, () => (started === 4 && finished === 1 ? true : undefined), 'the first consumer to be handling all 4 messages, done with order-2', () => `it had started ${started} and finished ${finished}`);

      await first.close(); // as when its process crashes: the broker takes back what was not acked

      const second = await consumerChannel(context);
      const received: ConsumeMessage[] = [];
      const consumer = await context.layer.consume(second.channel, queue, async (message) => void received.push(message), { prefetch: 5, onFailure: drop });
      const held = ['order-1', 'order-3', 'order-4'];
      const lost = () => held.filter((order) => !received.some((message) => body(message) === order));
      const expected = 'the 3 messages the first consumer was still handling (order-1, order-3, order-4) to be delivered again to the second consumer';
      await waitOpen(second, () => (lost().length === 0 ? true : undefined), expected, () => {
        const them = lost().length === 1 ? 'it' : 'them';
        return `${lost().join(', ')} never came back: the broker had counted ${them} as acknowledged while still being handled, so the crash lost ${them}`;
      }, 1500).catch((error: unknown) => {
        // Some lost, not all: acked along with order-2, the one that had finished.
        const partly = error instanceof CheckFailure && error.expected === expected && lost().length < held.length;
        throw partly ? new CheckFailure(error.expected, `${error.seen} (acked together with order-2?)`, ACK_MULTIPLE_HINT) : error;
      });
      await second.channel.checkQueue(queue).catch(() => {}); // a round trip: any delivery of order-2 has arrived
      await nextTurn();
      expectThat(received.every((message) => message.fields.redelivered), 'each to arrive with redelivered = true', 'a message marked as a first delivery');
      expectThat(!received.some((message) => body(message) === 'order-2'), 'order-2, whose handler had finished, not to come back', 'order-2 came back: it was never acked');

      // The stuck handlers finish now; their acks meet a closed channel, which must not crash anything.
      stuck.open();
      await waitFor(() => (finished === 4 ? true : undefined), "the first consumer's handlers to finish", () => `${finished} finished`);
      await nextTurn();
      await nextTurn();
      assertNothingEscaped();
      // A service that lost its connection still stops its old consumers: that must not throw.
      const stopped = watch(crashed.stop());
      await waitFor(() => (stopped().state === 'pending' ? undefined : true), "the first consumer's stop() to end although its channel had closed", () => 'it never resolved', 1000);
      const outcome = stopped();
      if (outcome.state === 'rejected' && outcome.error instanceof ExerciseNotWrittenError) throw outcome.error;
      expectThat(
        outcome.state === 'resolved',
        "stop() to resolve on a channel that has closed (its consumer is gone already)",
        () => `it rejected: ${describeError((outcome as { error: unknown }).error)}`,
        'On a closed channel there is no consumer left to cancel, and cancelling throws: stop() can let that go.',
      );

      await consumer.stop();
      second.assertOpen();
      await second.close();
      const left = await ready(admin, queue);
      expectThat(left === 0, 'the queue empty once the second consumer acked everything', `${left} message(s) back in the queue: they were never acked`);
    },
  },
  {
    id: '05.prefetch',
    name: 'with prefetch 3 and a slow handler, exactly 3 messages are in flight, never more',
    hint: 'The limit is set on the channel, and applies to consumers started after it. The broker ignores it for a consumer that does not ack.',
    async run(context) {
      const admin = await observer(context);
      const queue = await queueWith(admin, 'check.prefetch', Array.from({ length: 10 }, (_, i) => `order-${i + 1}`));
      const consumerChan = await consumerChannel(context);
      const slow = gate();
      let running = 0;
      let mostAtOnce = 0;
      let done = 0;
      const consumer = await context.layer.consume(consumerChan.channel, queue, async () => {
        mostAtOnce = Math.max(mostAtOnce, ++running);
        await slow.opened;
        running--;
        done++;
      }, { prefetch: 3, onFailure: drop });

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
      expectThat(running === 3 && waiting === 7, 'exactly 3 messages in flight and 7 still waiting in the queue', `${running} in flight and ${waiting} waiting`);
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
      expectThat(consumer.inFlight() === 0, 'inFlight() = 0 once every message is handled', `inFlight() = ${consumer.inFlight()}`, IN_FLIGHT_HINT);
      await consumerChan.close();
      const left = await ready(admin, queue);
      expectThat(left === 0, 'every message acked (the queue empty)', `${left} message(s) back in the queue`);
    },
  },
  {
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
      const consumer = await context.layer.consume(consumerChan.channel, queue, async (message) => {
        calls.set(body(message), (calls.get(body(message)) ?? 0) + 1);
        if (body(message).startsWith('fail')) throw new Error(`cannot reserve stock for ${body(message)}`);
      }, {
        prefetch: 2,
        onFailure: async (channel, message) => {
          failed.push(body(message));
          channel.nack(message, false, false);
        },
      });

      const handled = () => [...calls.values()].reduce((sum, n) => sum + n, 0);
      // A message handled twice on a channel that stays open was put back in the queue: no need to wait longer.
      const repeated = () => [...calls].filter(([, n]) => n > 1).map(([b, n]) => `${b} ×${n}`);
      await waitOpen(
        consumerChan,
        () => (calls.size === bodies.length || repeated().length > 0 ? true : undefined),
        'all 8 messages handled with prefetch 2 (6 succeed, 2 fail and go to onFailure, which settles them)',
        () => `${calls.size} of 8 handled, then nothing more: the consumer stalled, its 2 deliveries never settled, so prefetch 2 stayed used up`,
        1500,
        UNACKED_HINT,
      );
      expectThat(repeated().length === 0, 'each message handled once', () => `${repeated().join(', ')}: a failed message went straight back to the queue, again and again, instead of to onFailure`, REQUEUE_HINT);
      await withHint(waitFor(() => (failed.length === 2 ? true : undefined), 'onFailure called for the 2 failures, fail-1 and fail-2', () => `onFailure called for ${failed.length} of them (${failed.join(', ') || 'none'})`, 300), FAILURE_HINT);
      // The last handler has run; what follows it (the ack, onFailure) may still be a few promise turns away.
      await withHint(waitFor(() => (consumer.inFlight() === 0 ? true : undefined), 'inFlight() = 0 once all 8 are handled, the failed ones included', () => `inFlight() = ${consumer.inFlight()}`, 500), IN_FLIGHT_HINT);
      const stopped = watch(consumer.stop());
      await waitFor(() => (stopped().state === 'pending' ? undefined : true), 'stop() to resolve, nothing being handled any more', () => 'it never resolved: it waits for deliveries that are over', 1000);
      await admin.checkQueue(queue); // a round trip: a channel close the broker sent is in by now
      await consumerChan.channel.checkQueue(queue).catch(() => {});
      consumerChan.assertOpen();
      expectThat(handled() === bodies.length, 'each message handled exactly once', () => `${[...calls].filter(([, n]) => n > 1).map(([b, n]) => `${b} ×${n}`).join(', ')}: it came back, so it was not settled`);
      expectThat(failed.length === 2, 'onFailure called once for each of fail-1 and fail-2', () => `onFailure got ${failed.join(', ')}`);
      await consumerChan.close();
      const left = await ready(admin, queue);
      expectThat(left === 0, 'nothing back in the queue once the channel closed (every delivery settled)', `${left} message(s) back in the queue: they were never settled`);
    },
  },
  {
    id: '05.failure',
    name: 'a handler that throws goes to onFailure (not acked by consume), and the next message is still handled, even when onFailure throws',
    hint: "A failed message belongs to onFailure (it retries or parks it): consume must not ack it. Whatever onFailure does, throwing included, the consumer goes on with the next message.",
    async run(context) {
      const assertNothingEscaped = watchEscapes(context);
      const admin = await observer(context);
      const queue = await queueWith(admin, 'check.failure', ['bad', 'worse', 'ok-1', 'ok-2']);
      const consumerChan = await consumerChannel(context);
      const { channel } = consumerChan;
      const handled: string[] = [];
      const failures: { body: string; error: unknown; sameChannel: boolean }[] = [];
      const thrown = new Map<string, Error>([['bad', new Error('cannot reserve stock for bad')], ['worse', new Error('cannot reserve stock for worse')]]);
      // onFailure holds the failed messages without settling them, so the check can see whether consume
      // acked them; for "worse" it also throws, as when layer 6 cannot reach the retry queue.
      await context.layer.consume(channel, queue, async (message) => {
        const error = thrown.get(body(message));
        if (error) throw error;
        handled.push(body(message));
      }, {
        prefetch: 3,
        onFailure: async (failedOn, message, error) => {
          failures.push({ body: body(message), error, sameChannel: failedOn === channel });
          if (body(message) === 'worse') throw unreachable();
        },
      });

      // ok-2 comes after "bad" and "worse": once it is handled, their handlers threw long ago.
      await waitOpen(consumerChan, () => (failures.length >= 2 || handled.length === 2 ? true : undefined), 'onFailure to be called for the 2 messages whose handler threw', () => `onFailure called ${failures.length}× (handled: ${handled.join(', ') || 'nothing'})`, 1500, FAILURE_HINT);
      await withHint(waitFor(() => (failures.length >= 2 ? true : undefined), 'onFailure to be called for the 2 messages whose handler threw', () => `onFailure called ${failures.length}× (handled: ${handled.join(', ')})`, 300), FAILURE_HINT);
      expectThat(failures.map((f) => f.body).sort().join() === 'bad,worse', 'onFailure called once each for "bad" and "worse"', () => `it was called for ${failures.map((f) => f.body).join(', ')}`);
      const wrong = failures.find((f) => f.error !== thrown.get(f.body) || !f.sameChannel);
      expectThat(!wrong, "onFailure(channel, message, error) with the consumer's channel and the handler's own error", () => `for ${wrong?.body}: error ${describeError(wrong?.error)}${wrong?.sameChannel ? '' : ', and another channel'}`);
      await waitOpen(
        consumerChan,
        () => (handled.length === 2 ? true : undefined),
        'the messages after them (ok-1, ok-2) to be handled',
        () => `handled: ${handled.join(', ') || 'nothing'}, then nothing more was delivered: with prefetch 3, the 2 failed messages (left to onFailure) and any message not acked hold all 3 places`,
        1500,
        UNACKED_HINT,
      );
      await nextTurn();
      await nextTurn();
      assertNothingEscaped("onFailure may throw too (it publishes, and publishing can fail): catch its error and log it, or it escapes and ends the service.");
      consumerChan.assertOpen();

      await consumerChan.close(); // "bad" and "worse" were never settled: unless consume acked them behind onFailure's back, they return to the queue
      const back = await ready(admin, queue);
      expectThat(
        back === 2,
        '"bad" and "worse" back in the queue once the channel closed (onFailure had not settled them, so consume must not have either)',
        back < 2 ? `${back} back: consume acked ${2 - back} failed message(s) itself, and a failed message acked is lost` : `${back} messages`,
      );
    },
  },
  {
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
      const consumer = await context.layer.consume(channel, queue, async (message) => {
        handled.push(body(message));
        await slow.opened;
      }, { prefetch: 1, onFailure: drop });
      await waitOpen(consumerChan, () => (handled.length > 0 ? true : undefined), 'the consumer to start on "slow"', () => 'nothing delivered');

      const stopping = watch(consumer.stop());
      await waitFor(
        async () => ((await admin.checkQueue(queue)).consumerCount === 0 ? true : undefined),
        'stop() to cancel the consumer (no consumer left on the queue)',
        () => 'the consumer was still registered: stop() must cancel it before waiting, or new deliveries keep coming',
        1500,
      );
      await channel.checkQueue(queue).catch(() => {}); // one more round trip on its channel: any cancel-ok has arrived
      await nextTurn();
      const early = stopping();
      if (early.state === 'rejected' && early.error instanceof ExerciseNotWrittenError) throw early.error;
      expectThat(
        early.state === 'pending',
        'stop() still waiting while "slow" was being handled',
        early.state === 'resolved' ? 'stop() had already resolved: a service shutting down now would close its channel under the handler' : `stop() rejected: ${describeError((early as { error: unknown }).error)}`,
      );
      expectThat(consumer.inFlight() === 1, 'inFlight() = 1 while "slow" is handled', `inFlight() = ${consumer.inFlight()}`, IN_FLIGHT_HINT);

      slow.open();
      await waitFor(() => (stopping().state !== 'pending' ? true : undefined), 'stop() to resolve once "slow" was done', () => 'it never resolved', 1500);
      expectThat(stopping().state === 'resolved', 'stop() to resolve', () => `it rejected: ${describeError((stopping() as { error: unknown }).error)}`);
      expectThat(consumer.inFlight() === 0, 'inFlight() = 0 after stop()', `inFlight() = ${consumer.inFlight()}`, IN_FLIGHT_HINT);
      await channel.checkQueue(queue).catch(() => {}); // a delivery of "next" already on its way has arrived now
      await nextTurn();
      expectThat(handled.join() === 'slow', 'no delivery after stop() ("next" stays in the queue)', `handled ${handled.join(', ')}`);
      consumerChan.assertOpen();
      await consumerChan.close();
      const left = await ready(admin, queue);
      expectThat(left === 1, '"slow" acked before stop() resolved, "next" still waiting: 1 message in the queue', `${left}${left === 2 ? ': "slow" came back, it was not acked' : ''}`);

      // A delivery whose handler threw is in hand too, until onFailure has settled it.
      await stopWhileOnFailureRuns(context, admin);
    },
  },
  {
    id: '05.cancelled',
    name: 'when the broker cancels the consumer (its queue deleted), onCancelled is called',
    hint: 'When the broker cancels a consumer, amqplib calls the consume callback once more, with null: that is not a message.',
    async run(context) {
      const assertNothingEscaped = watchEscapes(context);
      const admin = await observer(context);
      const queue = await queueWith(admin, 'check.cancelled', []);
      const { channel } = await consumerChannel(context);
      let cancelled = 0;
      let handled = 0;
      const failures: unknown[] = [];
      await context.layer.consume(channel, queue, async () => void handled++, {
        prefetch: 1,
        onFailure: async (_channel, _message, error) => void failures.push(error),
        onCancelled: () => void cancelled++,
      });
      await admin.deleteQueue(queue);
      await waitFor(
        () => (cancelled > 0 || handled > 0 || failures.length > 0 ? true : undefined),
        'onCancelled to be called once the queue was deleted',
        () => 'it was not called',
        1500,
      );
      await nextTurn();
      expectThat(cancelled === 1 && handled === 0 && failures.length === 0, 'onCancelled called once, and neither the handler nor onFailure', `onCancelled ${cancelled}×, handler ${handled}×, onFailure ${failures.length}×`);
      assertNothingEscaped();
    },
  },
  {
    id: '05.process-once',
    name: 'processOnce applies a repeated message id once: true the first time, false for the repeat',
    hint: 'The store remembers which message ids were processed: look before doing the work, and remember after.',
    async run(context) {
      const admin = await observer(context);
      // The same message delivered twice, as after a redelivery or a publish retried by the outbox, then another one.
      const ids = ['order-9:order.created', 'order-9:order.created', 'order-10:order.created'];
      const queue = await queueWith(admin, 'check.duplicates', ['reserve order-9', 'reserve order-9', 'reserve order-10'], ids);
      const inventory = inventoryStore();
      context.onCleanup(() => inventory.close());
      const outcomes: unknown[] = [];
      for (let i = 0; i < ids.length; i++) {
        const message = await admin.get(queue, { noAck: true });
        expectThat(message, 'the delivery in the queue', 'an empty queue');
        const { returned, threw } = thrownBy(() => context.layer.processOnce(inventory.store, message.properties.messageId, inventory.reserve));
        expectThat(threw === undefined, 'processOnce to return', () => `it threw ${describeError(threw)}`);
        outcomes.push(returned);
      }
      expectThat(inventory.stock() === 8, 'item1 reserved once for order-9 and once for order-10 (10 → 8)', () => `${inventory.stock()} left: reserved ${10 - inventory.stock()}×`);
      expectThat(outcomes.join() === 'true,false,true', 'processOnce to return true when it applies, false for the repeat: true, false, true', `${outcomes.join(', ')}`);
    },
  },
  {
    id: '05.process-once-atomic',
    name: 'processOnce keeps the check, the work and the record in one transaction: a failure records nothing and undoes the work, a concurrent duplicate is applied once',
    hint: 'One store.transaction(...) around all of it: the look-up, the work and the record. Let an error go through it: the transaction rolls back, and the caller sees the error.',
    after: ['05.process-once'],
    async run(context) {
      // 1. The work throws: the error reaches the caller, nothing is recorded, and a retry applies it.
      const failingWork = inventoryStore();
      context.onCleanup(() => failingWork.close());
      const diskFull = new Error('disk full');
      const attempt = thrownBy(() => context.layer.processOnce(failingWork.store, 'order-11:order.created', () => {
        throw diskFull;
      }));
      expectThat(attempt.threw === diskFull, "the work's own error to reach the caller (so the message is retried)", () => (attempt.threw === undefined ? `processOnce returned ${String(attempt.returned)}: the message would be acked and its work never done` : `another error: ${describeError(attempt.threw)}`));
      expectThat(!failingWork.recorded('order-11:order.created'), 'nothing recorded for work that failed', 'its message id was recorded: the retry would skip it and the work would never happen');
      const retry = thrownBy(() => context.layer.processOnce(failingWork.store, 'order-11:order.created', failingWork.reserve));
      expectThat(retry.returned === true && failingWork.stock() === 9, 'the retry of that message to apply it (true, 10 → 9)', () => `${retry.threw ? `it threw ${describeError(retry.threw)}` : `it returned ${String(retry.returned)}`}, ${failingWork.stock()} left`);

      // 2. The record fails after (or before) the work: the work must not stay done without its record.
      const failingRecord = inventoryStore({ recordFails: new Error('the processed table is locked') });
      context.onCleanup(() => failingRecord.close());
      const recordAttempt = thrownBy(() => context.layer.processOnce(failingRecord.store, 'order-12:order.created', failingRecord.reserve));
      expectThat(recordAttempt.threw !== undefined, "record()'s error to reach the caller", () => `processOnce returned ${String(recordAttempt.returned)}`);
      expectThat(
        failingRecord.stock() === 10,
        'the work undone when its record failed (stock still 10): work and record commit together or not at all',
        () => `${failingRecord.stock()} left: the reservation stayed without its record, so the redelivery will reserve again`,
      );

      // 3. A second worker handles the same message id at the first chance processOnce gives it.
      const raced = inventoryStore({ rival: 'order-13:order.created' });
      context.onCleanup(() => raced.close());
      const race = thrownBy(() => context.layer.processOnce(raced.store, 'order-13:order.created', raced.reserve));
      expectThat(race.threw === undefined, 'processOnce to return', () => `it threw ${describeError(race.threw)}`);
      expectThat(
        raced.stock() === 9,
        'order-13 reserved once in all, though a second worker handled the same message id at the same time',
        () => `${raced.stock()} left: reserved twice, because the second worker committed between two of processOnce's steps that were not in one transaction`,
      );
      expectThat(race.returned === (raced.applied() > 0), 'processOnce to return true only when it applied the work itself', `it returned ${String(race.returned)} and applied the work ${raced.applied()}×`);
    },
  },
]);
