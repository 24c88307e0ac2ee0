// Milestone 6's check of the other path: on RabbitMQ 4.3 and later with quorum queues, a retrying
// queue holds a failed message itself (the broker's delayed retry) instead of sending it through a
// retry queue. The queue is declared with the learner's arguments; a message failed by hand (no layer
// code) shows whether the queue holds it and dead-letters it at the delivery limit; then the learner's
// handleFailure retries one (a reject, counted from x-delivery-count) and parks it; and on the last try
// of another, with dead-letter.queue refusing the copy, gives it back without it being lost. On an
// older broker it says it could not check (BrokerTooOldError), never fails.
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import { hasDelayedRetry } from '../../../shared/broker/broker-features.ts';
import { PARK_HEADERS } from '../../../shared/layers/06-dead-letters.ts';
import { describeError } from '../../../shared/log.ts';
import { ExerciseNotWrittenError } from '../../../shared/workshop/exercise.ts';
import { buildTopology, QUEUES, queueSpec } from '../../../shared/topology/topology.ts';
import type { QueueSpec, Topology, TopologySettings } from '../../../shared/topology/types.ts';
import { BrokerTooOldError, type Check, type CheckContext, CheckFailure, expectThat } from '../../check.ts';
import { CHECK_SETTINGS } from '../../context.ts';
import { waitFor } from '../../checks/support.ts';
import {
  consumeWithFailures,
  deathsOf,
  declare,
  expectOpen,
  type FailingWorker,
  headersOf,
  inbox,
  outcomesOf,
  PARK_HEADERS_HINT,
  paymentFailed,
  refusingDeadLetterQueue,
  sendTo,
  watchDeadLetterQueue,
} from './support.ts';

/** A try may come this much before its delay is up: the broker's timer and ours do not start at the same instant. */
const EARLY_MS = 20;

export const NACK_HINT =
  'On RabbitMQ 4.3 a quorum queue counts a failed delivery in x-delivery-count only on a reject (or a consumer that dies): a nack with requeue gives it back uncounted, and the same try comes again. Reject it, with requeue.';

/**
 * Throws "could not check" unless the broker has a quorum queue's delayed retry (RabbitMQ 4.3+).
 * Returns the settings of that path: quorum queues that hold their failed messages themselves.
 */
async function delayedRetryPath(context: CheckContext<'deadLetters'>, settings: Partial<TopologySettings> = {}) {
  const version = (await context.vhost.api.overview()).rabbitmq_version;
  if (!hasDelayedRetry(version)) {
    const line = version.startsWith('3.') ? 'RabbitMQ 3.x' : `RabbitMQ ${version}`;
    throw new BrokerTooOldError(
      `could not check on ${line} (this broker is ${version}): a quorum queue's delayed retry needs RabbitMQ 4.3 or later. Here the retry queues are the way, and the other checks grade them`,
    );
  }
  const topology: Topology = buildTopology({ ...context.settings, ...settings, queueType: 'quorum', delayedRetry: true });
  return { topology, spec: queueSpec(topology, QUEUES.inventory) };
}

/**
 * The delay as the broker holds it: x-delayed-retry-min is the retry delay itself. The timings below
 * see a delay that is too short; one that is too long (twice the delay, say) is only slow, so it is
 * read here, where the load on the machine cannot blur it.
 */
async function expectDelayAsDeclared(context: CheckContext<'deadLetters'>) {
  const { vhost } = context;
  const info = await vhost.api.request<{ arguments?: Record<string, unknown> }>(
    'GET',
    `/queues/${encodeURIComponent(vhost.name)}/${encodeURIComponent(QUEUES.inventory)}`,
  );
  const min = info.arguments?.['x-delayed-retry-min'];
  expectThat(
    min === DELAY_MS,
    `${QUEUES.inventory} declared with x-delayed-retry-min = ${DELAY_MS} (its spec's retry delay)`,
    `x-delayed-retry-min = ${JSON.stringify(min) ?? 'missing'}`,
    'The shortest hold is the retry delay itself, in milliseconds; the longest may grow from there.',
  );
}

/** When each delivery came, and the x-delivery-count it carried. */
interface Delivery {
  at: number;
  deliveryCount: unknown;
}

/** `+0 ms (x-delivery-count none), +305 ms (1)`: the deliveries of one message, as the check saw them. */
function describeDeliveries(deliveries: Delivery[]): string {
  if (deliveries.length === 0) return 'no delivery';
  const first = deliveries[0]!.at;
  return deliveries.map((d) => `+${d.at - first} ms (x-delivery-count ${JSON.stringify(d.deliveryCount ?? 'none')})`).join(', ');
}

/** The gaps between deliveries that came sooner than `delayMs` after the one before. */
function tooSoon(deliveries: Delivery[], delayMs: number): number[] {
  return deliveries
    .slice(1)
    .map((d, i) => d.at - deliveries[i]!.at)
    .filter((gap) => gap < delayMs - EARLY_MS);
}

/** The retry delay of this check: long enough to tell a held message from a requeue (a few ms), short enough to be quick. */
const DELAY_MS = 150;

/**
 * A consumer without any layer-6 code fails a message every time (a reject with requeue): it should be
 * held at least the delay between deliveries, delivered maxAttempts times, then dead-lettered by the
 * broker (x-death: delivery_limit) into dead-letter.queue.
 */
async function expectDeliveryLimit(context: CheckContext<'deadLetters'>, setup: ConfirmChannel, deadLettered: ConsumeMessage[]) {
  const { connect, settings } = context;
  const consumer = await (await connect()).createChannel();
  await consumer.prefetch(1);
  const arrived: ConsumeMessage[] = [];
  await consumer.consume(QUEUES.inventory, (message) => void (message && arrived.push(message)));
  const event = paymentFailed('order-delivery-limit');
  await sendTo(setup, QUEUES.inventory, event);

  const deliveries: Delivery[] = [];
  const found = () => deadLettered.find((m) => m.properties.messageId === event.messageId);
  const tooMany = settings.maxAttempts + 1;
  while (deliveries.length < tooMany) {
    // The next delivery, or null once the message is in dead-letter.queue.
    const next = await waitFor(
      () => arrived.shift() ?? (found() ? null : undefined),
      `after ${deliveries.length} failed deliveries of a message its consumer rejects every time, another one or the message in dead-letter.queue`,
      () => `neither came (${describeDeliveries(deliveries)})`,
      3000,
    ).catch(async (error: unknown) => {
      if (!(error instanceof CheckFailure)) throw error;
      const { messageCount } = await setup.checkQueue(QUEUES.inventory);
      const dropped = messageCount === 0 ? ': the broker dropped it, with no dead-letter exchange to send it to' : '';
      throw new CheckFailure(error.expected, `${error.seen}; ${QUEUES.inventory} holds ${messageCount} message(s)${dropped}`);
    });
    if (next === null) break;
    deliveries.push({ at: Date.now(), deliveryCount: next.properties.headers?.['x-delivery-count'] });
    if (deliveries.length < tooMany) consumer.reject(next, true);
    else consumer.ack(next); // enough: end the loop
  }
  await consumer.close().catch(() => {});
  const dead = found();
  expectThat(
    deliveries.length === settings.maxAttempts && dead !== undefined,
    `${settings.maxAttempts} deliveries of a message its consumer rejects every time, then the message in dead-letter.queue`,
    `${deliveries.length}${deliveries.length >= tooMany ? ' and counting' : ''} deliveries (${describeDeliveries(deliveries)})${dead ? ', then it was dead-lettered' : ''}`,
    deliveries.length > settings.maxAttempts
      ? 'x-delivery-limit is the number of failed deliveries the broker lets through: with a limit of L, the (L + 1)-th failure is dead-lettered.'
      : undefined,
  );
  const early = tooSoon(deliveries, DELAY_MS);
  expectThat(
    early.length === 0,
    `each rejected delivery held in the queue at least the retry delay (${DELAY_MS} ms) before the next`,
    `${describeDeliveries(deliveries)}: ${early.map((gap) => `${gap} ms`).join(', ')} after a reject`,
    'A message the queue does not hold comes back at once: which rejections does the queue hold, and does it read its delay as a number?',
  );
  expectThat(/delivery_limit/.test(deathsOf(dead)), `x-death on the dead-lettered message saying delivery_limit`, deathsOf(dead));
}

/** Waits until the event is parked (or dead-lettered by the broker instead) and every try has an outcome; fails on a try too many. */
async function waitForParkedOrDead(worker: FailingWorker, parked: ConsumeMessage[], messageId: string, maxAttempts: number) {
  return waitFor(
    () => {
      worker.rethrow();
      if (worker.tries.length > maxAttempts) {
        const counts = worker.tries.map((t) => JSON.stringify(t.deliveryCount ?? 'none')).join(', ');
        const uncounted = worker.tries.every((t) => t.deliveryCount === undefined || t.deliveryCount === 0);
        throw new CheckFailure(
          `${maxAttempts} tries, then parked`,
          `${worker.tries.length} tries and counting (outcomes: ${outcomesOf(worker.outcomes)}; x-delivery-count ${counts})`,
          uncounted ? NACK_HINT : undefined,
        );
      }
      const found = parked.find((m) => m.properties.messageId === messageId);
      return found && worker.outcomes.length === worker.tries.length ? found : undefined;
    },
    `the message parked in dead-letter.queue after ${maxAttempts} tries`,
    () => `after ${worker.tries.length} tries it was not parked (outcomes: ${outcomesOf(worker.outcomes)})`,
    3000,
  );
}

/** The learner's handleFailure on a message that keeps failing: rejected back maxAttempts − 1 times, then parked. */
async function expectRetriedThenParked(
  context: CheckContext<'deadLetters'>,
  setup: ConfirmChannel,
  parked: ConsumeMessage[],
  spec: QueueSpec,
) {
  const { layer, connect, settings } = context;
  const worker = await consumeWithFailures(await connect(), layer, spec, () => 'stock database unavailable');
  const event = paymentFailed('order-delayed-retry');
  await sendTo(setup, QUEUES.inventory, event);

  const copy = await waitForParkedOrDead(worker, parked, event.messageId, settings.maxAttempts);
  const headers = headersOf(copy);
  expectThat(
    headers[PARK_HEADERS.reason] !== undefined,
    `handleFailure to park the message (a copy with x-failure-reason) on try ${settings.maxAttempts}`,
    `the broker dead-lettered the message itself (${deathsOf(copy)}) after ${worker.tries.length} tries (outcomes: ${outcomesOf(worker.outcomes)})`,
    worker.outcomes.every((o) => o === 'retrying')
      ? 'Count the tries where this queue counts them: nothing is dead-lettered on this path, so x-death stays empty.'
      : 'A nack without requeue dead-letters the message at once: on this path the queue itself has to take it back.',
  );
  const wanted = outcomesOf([...Array.from({ length: settings.maxAttempts - 1 }, () => 'retrying' as const), 'parked']);
  expectThat(outcomesOf(worker.outcomes) === wanted, `handleFailure to return ${wanted}`, outcomesOf(worker.outcomes));
  expectThat(
    headers[PARK_HEADERS.attempts] === settings.maxAttempts,
    `x-attempts = ${settings.maxAttempts}`,
    `x-attempts = ${JSON.stringify(headers[PARK_HEADERS.attempts])}`,
    PARK_HEADERS_HINT,
  );
  const [first, second] = worker.tries;
  const gap = second && first ? second.at - first.at : 0;
  expectThat(
    second?.redelivered === true && gap >= DELAY_MS - EARLY_MS,
    `the second try to come back from ${QUEUES.inventory} itself (redelivered), held there at least the retry delay (${DELAY_MS} ms)`,
    second ? `it came ${gap} ms later, ${second.redelivered ? 'redelivered' : 'not redelivered'}` : 'no second try',
    gap < 50 && second?.redelivered ? NACK_HINT : undefined,
  );
  await worker.expectAllSettled(setup, 'the parked original');
}

/** A message that failed maxAttempts − 1 times under a worker that has since died: the queue counted it, so its next failure is its last. */
async function expectCountSurvivesACrash(context: CheckContext<'deadLetters'>, setup: ConfirmChannel, spec: QueueSpec) {
  const { layer, connect, settings } = context;
  const earlier = await inbox(await connect(), QUEUES.inventory);
  await sendTo(setup, QUEUES.inventory, paymentFailed('order-failed-before-a-crash'));
  for (let failure = 0; failure < settings.maxAttempts - 1; failure++) {
    const message = await earlier.next('the message back in inventory.queue', () => 'it did not come back');
    earlier.channel.reject(message, true);
  }
  const last = await earlier.next('the message back in inventory.queue', () => 'it did not come back');
  const outcome = await layer.handleFailure(earlier.channel, last, new Error('stock database unavailable'), spec);
  expectThat(
    outcome === 'parked',
    `a message whose x-delivery-count says it failed ${settings.maxAttempts - 1} times in ${QUEUES.inventory} (under a worker before this one) to be parked on its next failure`,
    `handleFailure returned ${outcome} (x-delivery-count ${JSON.stringify(last.properties.headers?.['x-delivery-count'])}, ${deathsOf(last)})`,
    'The count has to survive a crash of the consumer: read it from the message, where this queue writes it.',
  );
  await earlier.channel.close().catch(() => {}); // no consumer left behind to take the next scenario's deliveries
}

/**
 * A message handed back uncounted (a nack with requeue, as a consumer shutting down or shedding its
 * prefetch does) maxAttempts − 1 times, then failing for the first time: one try so far, so it is
 * retried. A layer that counts acquisitions (x-acquired-count) instead of failures parks it early.
 */
async function expectHandedBackIsNoTry(context: CheckContext<'deadLetters'>, setup: ConfirmChannel, spec: QueueSpec) {
  const { layer, connect, settings } = context;
  const consumer = await inbox(await connect(), QUEUES.inventory);
  await sendTo(setup, QUEUES.inventory, paymentFailed('order-handed-back'));
  for (let handBack = 0; handBack < settings.maxAttempts - 1; handBack++) {
    const message = await consumer.next('the message back in inventory.queue', () => 'it did not come back');
    consumer.channel.nack(message, false, true);
  }
  const first = await consumer.next('the message back in inventory.queue', () => 'it did not come back');
  const outcome = await layer.handleFailure(consumer.channel, first, new Error('stock database unavailable'), spec);
  const headers = first.properties.headers ?? {};
  expectThat(
    outcome === 'retrying',
    `a message handed back ${settings.maxAttempts - 1} times with a nack (not a failure) and now failing for the first time to be retried`,
    `handleFailure returned ${outcome} (x-delivery-count ${JSON.stringify(headers['x-delivery-count'])}, x-acquired-count ${JSON.stringify(headers['x-acquired-count'])})`,
    "Count the failures the queue counted, not every time the message was handed out (README § The broker's delayed retry).",
  );
  // Out of the queue before the next scenario: it comes back after its delay, and is acked here.
  consumer.channel.ack(await consumer.next('the retried message back in inventory.queue', () => 'it did not come back'));
  await consumer.channel.close().catch(() => {}); // no consumer left behind to take the next scenario's deliveries
}

/** A consumer of the queue whose deliveries the check settles by hand, and whose channel the broker may close (kept, not thrown). */
async function handSettled(context: CheckContext<'deadLetters'>, queue: string) {
  const channel = await (await context.connect()).createConfirmChannel();
  let closedBy: unknown;
  channel.on('error', (error: unknown) => (closedBy ??= error));
  const arrived: ConsumeMessage[] = [];
  await channel.consume(queue, (message) => void (message && arrived.push(message)));
  const next = (expected: string, seen: () => string) =>
    waitFor(
      () => {
        expectOpen(closedBy);
        return arrived.shift();
      },
      expected,
      seen,
      2000,
    );
  return { channel, next };
}

/** What the graded call did: `resolved with "parked"`, `rejected with "…"`, or still nothing. */
async function settledWithin(call: () => Promise<unknown>, what: string) {
  let settled: string | undefined;
  let failure: unknown;
  void Promise.resolve()
    .then(call)
    .then(
      (value) => (settled = `resolved with ${JSON.stringify(value)}`),
      (error: unknown) => {
        failure = error;
        settled = `rejected with "${describeError(error)}"`;
      },
    );
  await waitFor(
    () => {
      if (failure instanceof ExerciseNotWrittenError) throw failure;
      return settled;
    },
    `${what} to resolve or reject once the broker refused the copy`,
    () => 'it was still waiting after 2 s',
    2000,
  );
  return { settled: settled ?? '', rejected: failure !== undefined };
}

/**
 * A message on its last try whose copy the broker refuses (dead-letter.queue now takes nothing): the
 * learner's handleFailure gives it back and rejects, and the message must come back to its queue,
 * still on its last try. Counted as one more failure, it would reach the delivery limit, and the broker
 * would dead-letter it into the very queue that refuses everything: it would be gone.
 */
async function expectRefusedParkKeepsIt(context: CheckContext<'deadLetters'>, setup: ConfirmChannel, spec: QueueSpec) {
  const { layer, settings } = context;
  await setup.deleteQueue(QUEUES.deadLetter);
  await refusingDeadLetterQueue(setup);
  const worker = await handSettled(context, QUEUES.inventory);
  const event = paymentFailed('order-unparkable-on-its-last-try');
  await sendTo(setup, QUEUES.inventory, event);
  for (let failure = 0; failure < settings.maxAttempts - 1; failure++) {
    worker.channel.reject(await worker.next(`the message back in ${QUEUES.inventory}`, () => 'it did not come back'), true);
  }
  const last = await worker.next(`the message back in ${QUEUES.inventory} for its last try`, () => 'it did not come back');
  const count = JSON.stringify(last.properties.headers?.['x-delivery-count'] ?? 'none');
  const { settled, rejected } = await settledWithin(
    () => layer.handleFailure(worker.channel, last, new Error('stock database unavailable'), spec),
    'handleFailure',
  );
  const expected = `on its last try (x-delivery-count ${count}), a message whose dead-letter copy the broker refused back in ${QUEUES.inventory}, ready for the next consumer`;
  const back = await worker
    .next(expected, () => 'it did not come back')
    .catch(async (error: unknown) => {
      if (!(error instanceof CheckFailure) || error.expected !== expected) throw error; // the channel closed, say
      await worker.channel.close().catch(() => {}); // whatever it still holds unacked goes back
      const { messageCount } = await setup.checkQueue(QUEUES.inventory);
      throw new CheckFailure(
        expected,
        messageCount > 0
          ? `it came back only when the check closed the consumer's channel: it was held unacked (handleFailure ${settled})`
          : `it is gone, not even back once the check closed the consumer's channel: counted as one more failure, it reached the delivery limit, and the broker dead-lettered it into the dead-letter.queue that refuses everything (handleFailure ${settled})`,
        messageCount > 0
          ? undefined
          : 'The copy was refused, so the original did not fail again: which way of giving a message back does this queue not count?',
      );
    });
  const countBack = JSON.stringify(back.properties.headers?.['x-delivery-count'] ?? 'none');
  worker.channel.ack(back);
  expectThat(
    countBack === count,
    `the message back uncounted, still on its last try (x-delivery-count ${count})`,
    `it came back with x-delivery-count ${countBack}`,
  );
  expectThat(rejected, 'handleFailure to reject, so its caller knows the message was not parked', `handleFailure ${settled}`);
  await worker.channel.close().catch(() => {});
}

export const delayedRetry: Check<'deadLetters'> = {
  id: '06.delayed-retry',
  name: `on RabbitMQ 4.3+ with quorum queues, a failing message waits in its own queue (no retry queue), is counted from x-delivery-count, tried maxAttempts (${CHECK_SETTINGS.maxAttempts}) times and parked, or back in its queue uncounted when its copy is refused; one nobody parks is dead-lettered by the broker at its delivery limit`,
  hint: "Where spec.failure says the message waits in the queue, the queue's arguments do the waiting and the limit, and the queue counts the tries (README § The broker's delayed retry).",
  timeoutMs: 12000,
  async run(context) {
    const { topology, spec } = await delayedRetryPath(context, { retryDelayMs: DELAY_MS });
    const connection = await context.connect();
    const setup = await connection.createConfirmChannel();
    await declare(setup, topology, context.layers, [QUEUES.inventory, QUEUES.deadLetter], 'quorum');
    await expectDelayAsDeclared(context);
    const deadLettered = await watchDeadLetterQueue(connection);
    await expectDeliveryLimit(context, setup, deadLettered);
    await expectRetriedThenParked(context, setup, deadLettered, spec);
    await expectCountSurvivesACrash(context, setup, spec);
    await expectHandedBackIsNoTry(context, setup, spec);
    await expectRefusedParkKeepsIt(context, setup, spec);
  },
};
