// Milestone 5: manual acks, prefetch and idempotency. Each check runs the layer's consumer on a real
// queue with a handler the check controls (it can hold a message "in progress" as long as it likes),
// then looks at what the broker kept, redelivered or let go.
import Database from 'better-sqlite3';
import type { Channel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { ExerciseNotWrittenError } from '../../shared/workshop/exercise.ts';
import type { FailureHandler, ProcessedMessages } from '../../shared/layers/05-acks-prefetch.ts';
import { describeError } from '../../shared/log.ts';
import { type CheckContext, defineChecks, expectThat } from '../check.ts';
import { waitFor } from './support.ts';

type Context = CheckContext<'acks'>;

/** A fresh queue holding one message per body (message id = body unless ids are given). */
async function queueWith(channel: ConfirmChannel, name: string, bodies: string[], ids = bodies): Promise<string> {
  const { queue } = await channel.assertQueue(name, { durable: true });
  bodies.forEach((body, i) => channel.sendToQueue(queue, Buffer.from(body), { messageId: ids[i], persistent: true }));
  await channel.waitForConfirms();
  return queue;
}

/** The check's own channel, for setting up queues and looking at them. */
async function observer(context: Context): Promise<ConfirmChannel> {
  const channel = await (await context.connect()).createConfirmChannel();
  channel.on('error', () => {});
  return channel;
}

/** A channel for the consumer under test, on a connection of its own (so the check can close it). */
async function consumerChannel(context: Context): Promise<{ channel: ConfirmChannel; close(): Promise<void> }> {
  const connection = await context.connect();
  const channel = await connection.createConfirmChannel();
  channel.on('error', () => {}); // a consumer that settles a message twice gets its channel closed: seen by the checks, not a crash
  // The channel first: its close goes out behind the acks already sent on it, while amqplib may write
  // a connection.close ahead of them (and the broker would then requeue messages that were acked).
  const close = async () => {
    await channel.close().catch(() => {});
    await connection.close().catch(() => {});
  };
  return { channel, close };
}

/** A promise the check opens when it chooses: a handler waits on it, as on slow work. */
function gate(): { opened: Promise<void>; open(): void } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

const body = (message: ConsumeMessage) => message.content.toString();
const ready = async (channel: Channel, queue: string) => (await channel.checkQueue(queue)).messageCount;
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
/** Drops a failed message: for checks where failures are not the point. */
const drop: FailureHandler = async (channel, message) => channel.nack(message, false, false);

/** Errors that escape the consumer (an unhandled rejection would crash a service): the check fails on them. */
function watchEscapes(context: Context): () => void {
  const escaped: unknown[] = [];
  const onRejection = (reason: unknown) => void escaped.push(reason);
  process.on('unhandledRejection', onRejection);
  context.onCleanup(() => void process.off('unhandledRejection', onRejection));
  return () => {
    const [first] = escaped;
    if (first instanceof ExerciseNotWrittenError) throw first;
    const closed = first instanceof Error && first.name === 'IllegalOperationError' ? ' (an ack on a closed channel throws IllegalOperationError: catch that one)' : '';
    expectThat(escaped.length === 0, 'no error to escape the consumer', () => `an unhandled rejection, which would crash the service: ${describeError(first)}${closed}`);
  };
}

type Settled = { state: 'pending' } | { state: 'resolved' } | { state: 'rejected'; error: unknown };

function watch(promise: Promise<unknown>): () => Settled {
  let settled: Settled = { state: 'pending' };
  promise.then(
    () => (settled = { state: 'resolved' }),
    (error: unknown) => (settled = { state: 'rejected', error }),
  );
  return () => settled;
}

/** A ProcessedMessages on an in-memory SQLite database that notes whether each call ran inside a transaction. */
function observedStore() {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE processed (id TEXT PRIMARY KEY); CREATE TABLE stock (sku TEXT PRIMARY KEY, quantity INTEGER); INSERT INTO stock VALUES (\'item1\', 10);');
  const calls: string[] = [];
  const note = (call: string) => calls.push(db.inTransaction ? call : `${call} outside`);
  const store: ProcessedMessages = {
    transaction: (work) => {
      calls.push('transaction');
      return db.transaction(work).immediate();
    },
    has: (id) => (note('has'), db.prepare('SELECT 1 FROM processed WHERE id = ?').get(id) !== undefined),
    record: (id) => void (note('record'), db.prepare('INSERT OR IGNORE INTO processed VALUES (?)').run(id)),
  };
  return {
    store,
    calls,
    reserve: () => void (note('work'), db.prepare("UPDATE stock SET quantity = quantity - 1 WHERE sku = 'item1'").run()),
    stock: () => (db.prepare("SELECT quantity FROM stock WHERE sku = 'item1'").get() as { quantity: number }).quantity,
    recorded: (id: string) => db.prepare('SELECT 1 FROM processed WHERE id = ?').get(id) !== undefined,
    close: () => void db.close(),
  };
}

export const checks = defineChecks('acks', [
  {
    id: '05.redelivered',
    name: 'messages a consumer held when its connection died come back to the next consumer, none lost',
    hint: 'Consume with noAck: false and ack only after the handler resolves. An ack on a closed channel throws (IllegalOperationError): catch it, the broker requeues the message anyway.',
    async run(context) {
      const assertNothingEscaped = watchEscapes(context);
      const admin = await observer(context);
      const queue = await queueWith(admin, 'check.redelivered', ['order-1', 'order-2', 'order-3']);

      // The first consumer takes all three and gets stuck on them.
      const first = await consumerChannel(context);
      const stuck = gate();
      let started = 0;
      let finished = 0;
      await context.layer.consume(first.channel, queue, async () => {
        started++;
        await stuck.opened;
        finished++;
      }, { prefetch: 5, onFailure: drop });
      await waitFor(() => (started === 3 ? true : undefined), 'the first consumer to be handling all 3 messages', () => `it was handling ${started}`);

      await first.close(); // as when its process crashes: the broker takes back what was not acked

      const second = await consumerChannel(context);
      const received: ConsumeMessage[] = [];
      const consumer = await context.layer.consume(second.channel, queue, async (message) => void received.push(message), { prefetch: 5, onFailure: drop });
      await waitFor(
        () => (received.length === 3 ? true : undefined),
        'the 3 messages the first consumer held to be delivered again to the second consumer',
        () => `${received.length} came back${received.length ? ` (${received.map(body).join(', ')})` : ''}: the broker had already counted the others as acknowledged, so they were lost`,
        2000,
      );
      expectThat(received.every((message) => message.fields.redelivered), 'each to arrive with redelivered = true', 'a message marked as a first delivery');

      // The stuck handlers finish now; their acks meet a closed channel, which must not crash anything.
      stuck.open();
      await waitFor(() => (finished === 3 ? true : undefined), 'the first consumer\'s handlers to finish', () => `${finished} finished`);
      await nextTurn();
      await nextTurn();
      assertNothingEscaped();

      await consumer.stop();
      await second.close();
      const left = await ready(admin, queue);
      expectThat(left === 0, 'the queue empty once the second consumer acked everything', `${left} message(s) back in the queue: they were never acked`);
    },
  },
  {
    id: '05.prefetch',
    name: 'with prefetch 3 and a slow handler, exactly 3 messages are in flight, never more',
    hint: 'await channel.prefetch(n) before channel.consume(...): the limit applies to consumers started after it. With noAck: true the broker ignores prefetch and pushes everything.',
    async run(context) {
      const admin = await observer(context);
      const queue = await queueWith(admin, 'check.prefetch', Array.from({ length: 10 }, (_, i) => `order-${i + 1}`));
      const { channel, close } = await consumerChannel(context);
      const slow = gate();
      let running = 0;
      let mostAtOnce = 0;
      let done = 0;
      const consumer = await context.layer.consume(channel, queue, async () => {
        mostAtOnce = Math.max(mostAtOnce, ++running);
        await slow.opened;
        running--;
        done++;
      }, { prefetch: 3, onFailure: drop });

      // Settled: everything is either waiting in the queue or in a handler, none in transit.
      let inQueue = 10;
      const waiting = await waitFor(
        async () => {
          inQueue = await ready(admin, queue);
          return running >= 3 && inQueue + running === 10 ? inQueue : undefined;
        },
        'exactly 3 messages in flight (prefetch 3), the other 7 waiting in the queue',
        () => `${running} in flight and ${inQueue} waiting`,
      );
      expectThat(running === 3 && waiting === 7, 'exactly 3 messages in flight and 7 still waiting in the queue', `${running} in flight and ${waiting} waiting`);
      expectThat(consumer.inFlight() === 3, 'inFlight() to say 3', `inFlight() = ${consumer.inFlight()}`);

      slow.open();
      await waitFor(() => (done === 10 ? true : undefined), 'all 10 messages handled once the handler speeds up', () => `${done} handled`);
      expectThat(mostAtOnce === 3, 'never more than 3 handled at once', `${mostAtOnce} at once`);
      await consumer.stop();
      await close();
      const left = await ready(admin, queue);
      expectThat(left === 0, 'every message acked (the queue empty)', `${left} message(s) back in the queue`);
    },
  },
  {
    id: '05.failure',
    name: 'a handler that throws goes to onFailure (not acked by consume), and the next message is still handled',
    hint: 'try { await handler(message) } catch (error) { await onFailure(channel, message, error); return } — and no ack on that path: onFailure decides (retry, park) and settles it.',
    async run(context) {
      const assertNothingEscaped = watchEscapes(context);
      const admin = await observer(context);
      const queue = await queueWith(admin, 'check.failure', ['bad', 'ok-1', 'ok-2']);
      const { channel, close } = await consumerChannel(context);
      const handled: string[] = [];
      const failures: { body: string; error: unknown; sameChannel: boolean }[] = [];
      const thrown = new Error('cannot reserve stock for bad');
      // onFailure holds the failed message without settling it, so the check can see whether consume acked it.
      await context.layer.consume(channel, queue, async (message) => {
        if (body(message) === 'bad') throw thrown;
        handled.push(body(message));
      }, { prefetch: 2, onFailure: async (failedOn, message, error) => void failures.push({ body: body(message), error, sameChannel: failedOn === channel }) });

      await waitFor(() => (failures.length > 0 ? true : undefined), 'onFailure to be called for the message whose handler threw', () => `onFailure never called (handled: ${handled.join(', ') || 'nothing'})`, 2000);
      const [failure] = failures;
      expectThat(failures.length === 1 && failure?.body === 'bad', 'onFailure called once, for "bad"', () => `it was called for ${failures.map((f) => f.body).join(', ')}`);
      expectThat(failure.error === thrown && failure.sameChannel, "onFailure(channel, message, error) with the consumer's channel and the handler's own error", () => `error ${describeError(failure.error)}${failure.sameChannel ? '' : ', and another channel'}`);
      await waitFor(() => (handled.length === 2 ? true : undefined), 'the messages after it (ok-1, ok-2) to be handled', () => `handled: ${handled.join(', ') || 'nothing'}: the consumer stopped after the failure`);
      assertNothingEscaped();

      await close(); // "bad" was never settled: unless consume acked it behind onFailure's back, it returns to the queue
      const back = await ready(admin, queue);
      expectThat(back === 1, '"bad" back in the queue once the channel closed (onFailure had not settled it, so consume must not have either)', back === 0 ? 'an empty queue: consume acked the failed message itself' : `${back} messages`);
    },
  },
  {
    id: '05.stop-waits',
    name: 'stop() cancels the consumer, then waits for the message in progress to be handled and acked',
    hint: 'Keep the promise of every delivery being handled in a Set (removed when it settles); stop() = await channel.cancel(consumerTag), then await Promise.all(inFlight).',
    async run(context) {
      const admin = await observer(context);
      const queue = await queueWith(admin, 'check.stop', ['slow', 'next']);
      const { channel, close } = await consumerChannel(context);
      const slow = gate();
      const handled: string[] = [];
      const consumer = await context.layer.consume(channel, queue, async (message) => {
        handled.push(body(message));
        await slow.opened;
      }, { prefetch: 1, onFailure: drop });
      await waitFor(() => (handled.length > 0 ? true : undefined), 'the consumer to start on "slow"', () => 'nothing delivered');

      const stopping = watch(consumer.stop());
      await waitFor(
        async () => ((await admin.checkQueue(queue)).consumerCount === 0 ? true : undefined),
        'stop() to cancel the consumer (no consumer left on the queue)',
        () => 'the consumer was still registered',
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
      expectThat(consumer.inFlight() === 1, 'inFlight() = 1 while "slow" is handled', `inFlight() = ${consumer.inFlight()}`);

      slow.open();
      await waitFor(() => (stopping().state !== 'pending' ? true : undefined), 'stop() to resolve once "slow" was done', () => 'it never resolved');
      expectThat(stopping().state === 'resolved', 'stop() to resolve', () => `it rejected: ${describeError((stopping() as { error: unknown }).error)}`);
      expectThat(consumer.inFlight() === 0, 'inFlight() = 0 after stop()', `inFlight() = ${consumer.inFlight()}`);
      expectThat(handled.join() === 'slow', 'no delivery after stop() ("next" stays in the queue)', `handled ${handled.join(', ')}`);
      await close();
      const left = await ready(admin, queue);
      expectThat(left === 1, '"slow" acked before stop() resolved, "next" still waiting: 1 message in the queue', `${left}${left === 2 ? ': "slow" came back, it was not acked' : ''}`);
    },
  },
  {
    id: '05.cancelled',
    name: 'when the broker cancels the consumer (its queue deleted), onCancelled is called',
    hint: 'The consume callback receives null when the broker cancels the consumer: call onCancelled?.() then, and do not pass null to the handler.',
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
      await waitFor(() => (cancelled > 0 ? true : undefined), 'onCancelled to be called once the queue was deleted', () => `it was not called${handled || failures.length ? ` (the handler or onFailure got ${handled + failures.length} call(s) instead)` : ''}`, 2000);
      expectThat(cancelled === 1 && handled === 0 && failures.length === 0, 'onCancelled called once, and neither the handler nor onFailure', `onCancelled ${cancelled}×, handler ${handled}×, onFailure ${failures.length}×`);
      assertNothingEscaped();
    },
  },
  {
    id: '05.process-once',
    name: 'processOnce applies a repeated message id once, checking and recording it in the same transaction as the work',
    hint: 'return store.transaction(() => { if (store.has(id)) return false; apply(); store.record(id); return true; }): one transaction, so a crash cannot leave the work done but not recorded.',
    async run(context) {
      const admin = await observer(context);
      // The same message delivered twice, as after a redelivery or a publish retried by the outbox.
      const queue = await queueWith(admin, 'check.duplicates', ['reserve order-9', 'reserve order-9'], ['order-9:order.created', 'order-9:order.created']);
      const observed = observedStore();
      context.onCleanup(() => observed.close());
      const outcomes: boolean[] = [];
      for (let i = 0; i < 2; i++) {
        const message = await admin.get(queue, { noAck: true });
        expectThat(message, 'the delivery in the queue', 'an empty queue');
        outcomes.push(context.layer.processOnce(observed.store, message.properties.messageId, observed.reserve));
      }
      expectThat(outcomes.join() === 'true,false', 'processOnce to return true for the first delivery and false for the repeat', `${outcomes.join(', ')}`);
      expectThat(observed.stock() === 9, 'the stock reserved once (10 → 9)', `${observed.stock()} left`);
      const first = observed.calls.slice(0, observed.calls.indexOf('record') + 1);
      expectThat(
        observed.calls[0] === 'transaction' && first.join() === 'transaction,has,work,record',
        'for the first delivery: one store.transaction in which has, the work and record run, in that order',
        () => `${observed.calls.join(', ')}`,
      );

      // Work that fails records nothing, so the message can be tried again.
      const failing = new Error('disk full');
      let threw: unknown;
      try {
        context.layer.processOnce(observed.store, 'order-10:order.created', () => {
          throw failing;
        });
      } catch (error) {
        threw = error;
      }
      if (threw instanceof ExerciseNotWrittenError) throw threw;
      expectThat(threw === failing, "the work's error to reach the caller (so the message is retried)", threw === undefined ? 'processOnce returned normally' : `another error: ${describeError(threw)}`);
      expectThat(!observed.recorded('order-10:order.created'), 'nothing recorded for work that failed', 'its message id was recorded: a retry would skip it and the work would never happen');
    },
  },
]);
