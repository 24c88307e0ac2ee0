// Milestone 6's checks on the retry loop: a failing message is tried maxAttempts times, counted from
// x-death, then parked; it waits its delay in the retry queue, not in the consumer, so it does not
// hold up the ones behind it.
import type { ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { DeadLetterLayer, FailureOutcome } from '../../../shared/layers/06-dead-letters.ts';
import { PARK_HEADERS } from '../../../shared/layers/06-dead-letters.ts';
import type { DomainEvent } from '../../../shared/messages/events.ts';
import { buildTopology, QUEUES, queueSpec, retryQueueName } from '../../../shared/topology/topology.ts';
import type { QueueSpec, TopologySettings } from '../../../shared/topology/types.ts';
import { type Check, CheckFailure, expectThat } from '../../check.ts';
import { CHECK_SETTINGS } from '../../context.ts';
import { waitFor } from '../../checks/support.ts';
import {
  consumeWithFailures,
  deathsOf,
  declare,
  describeReturns,
  FAST_RETRY_MS,
  type FailingWorker,
  headersOf,
  inbox,
  outcomesOf,
  PARK_HEADERS_HINT,
  paymentFailed,
  parkScene,
  REQUEUE_HINT,
  retryLoop,
  SETTLE_HINT,
  sendTo,
} from './support.ts';

const TIMER_HINT = 'Do not wait in your code (a timer holds the message in the consumer): settle it at once and let the retry queue wait.';

/** A CheckFailure without a hint of its own gets SETTLE_HINT when `unsettled` says the worker left a delivery unsettled. */
function withSettleHint(unsettled: () => boolean) {
  return (error: unknown): never => {
    if (error instanceof CheckFailure && error.hint === undefined && unsettled())
      throw new CheckFailure(error.expected, error.seen, SETTLE_HINT);
    throw error;
  };
}

/** Waits until the event is parked and every try has an outcome; fails on a try too many. */
async function waitForParked(
  worker: FailingWorker,
  parked: ConsumeMessage[],
  event: DomainEvent,
  settings: TopologySettings,
): Promise<ConsumeMessage> {
  const lastRetryNeverCameBack = () =>
    worker.outcomes.at(-1) === 'retrying' && worker.outcomes.length === worker.tries.length
      ? ', and after the last "retrying" the message never came back: it was not nacked into the retry queue'
      : '';
  return waitFor(
    () => {
      worker.rethrow();
      if (worker.tries.length > settings.maxAttempts) {
        const requeued = worker.tries.some((t) => t.redelivered);
        throw new CheckFailure(
          `${settings.maxAttempts} tries, then parked`,
          `${worker.tries.length} tries and counting (outcomes: ${outcomesOf(worker.outcomes)}; ${describeReturns(worker.tries)})`,
          requeued ? REQUEUE_HINT : undefined,
        );
      }
      const found = parked.find((m) => m.properties.messageId === event.messageId);
      return found && worker.outcomes.length === worker.tries.length ? found : undefined;
    },
    `the message parked in dead-letter.queue after ${settings.maxAttempts} tries`,
    () => `after ${worker.tries.length} tries it was not parked (outcomes: ${outcomesOf(worker.outcomes)})` + lastRetryNeverCameBack(),
    2000, // three tries FAST_RETRY_MS apart take a fraction of that
  ).catch(withSettleHint(() => worker.outcomes.at(-1) === 'retrying'));
}

function expectParkHeaders(copy: ConsumeMessage, settings: TopologySettings): void {
  const headers = headersOf(copy);
  const reason = headers[PARK_HEADERS.reason];
  expectThat(
    typeof reason === 'string' && reason.includes('stock database unavailable'),
    'x-failure-reason with the last error ("stock database unavailable")',
    `x-failure-reason = ${JSON.stringify(reason)}`,
    PARK_HEADERS_HINT,
  );
  expectThat(
    headers[PARK_HEADERS.queue] === QUEUES.inventory,
    `x-original-queue = "${QUEUES.inventory}"`,
    `x-original-queue = ${JSON.stringify(headers[PARK_HEADERS.queue])}`,
    PARK_HEADERS_HINT,
  );
  expectThat(
    headers[PARK_HEADERS.attempts] === settings.maxAttempts,
    `x-attempts = ${settings.maxAttempts}`,
    `x-attempts = ${JSON.stringify(headers[PARK_HEADERS.attempts])}`,
    PARK_HEADERS_HINT,
  );
}

/**
 * A message that already failed twice here, under a worker that has since crashed: x-death
 * remembers it, so its next failure is its last.
 */
async function expectTriedBeforeACrashParked(
  connection: ChannelModel,
  setup: ConfirmChannel,
  layer: DeadLetterLayer,
  spec: QueueSpec,
  settings: TopologySettings,
): Promise<void> {
  const earlier = await inbox(connection, QUEUES.inventory);
  const survivor = paymentFailed('order-tried-before-a-crash');
  await sendTo(setup, QUEUES.inventory, survivor);
  for (let rejection = 0; rejection < settings.maxAttempts - 1; rejection++) {
    const message = await earlier.next('the message back in inventory.queue', () => 'it did not come back');
    earlier.channel.nack(message, false, false);
  }
  const third = await earlier.next('the message back in inventory.queue', () => 'it did not come back');
  const outcome = await layer.handleFailure(earlier.channel, third, new Error('stock database unavailable'), spec);
  expectThat(
    outcome === 'parked',
    `a message x-death says was rejected ${settings.maxAttempts - 1} times from ${QUEUES.inventory} (by a worker before this one) to be parked on its next failure`,
    `handleFailure returned ${outcome} (${deathsOf(third)})`,
    'The count has to survive a crash of the consumer: read it from the message, not from memory.',
  );
}

export const retryThenPark: Check<'deadLetters'> = {
  id: '06.retry-then-park',
  name: `a message that keeps failing is tried maxAttempts (${CHECK_SETTINGS.maxAttempts}) times, counted from x-death, then parked in dead-letter.queue with x-failure-reason, x-original-queue and x-attempts`,
  hint: 'The delivery you are handling is an attempt too; the ones before it are in x-death (README § Parking).',
  after: ['06.attempts-so-far'],
  async run({ layer, reference, connect, settings }) {
    const connection = await connect();
    const topology = buildTopology({ ...settings, retryDelayMs: FAST_RETRY_MS });
    const { setup, parked } = await parkScene(connection, topology, reference, retryLoop(QUEUES.inventory));
    const spec = queueSpec(topology, QUEUES.inventory);
    const worker = await consumeWithFailures(connection, layer, spec, () => 'stock database unavailable');
    const event = paymentFailed('order-retry-then-park');
    await sendTo(setup, QUEUES.inventory, event);

    const copy = await waitForParked(worker, parked, event, settings);
    const outcomes = outcomesOf(worker.outcomes);
    expectThat(
      worker.tries.length === settings.maxAttempts,
      `${settings.maxAttempts} tries, then parked`,
      `${worker.tries.length} tries (outcomes: ${outcomes})`,
    );
    const wanted = outcomesOf([...Array.from({ length: settings.maxAttempts - 1 }, (): FailureOutcome => 'retrying'), 'parked']);
    expectThat(outcomes === wanted, `handleFailure to return ${wanted}`, outcomes);
    expectParkHeaders(copy, settings);
    await worker.expectAllSettled(setup, 'the parked original');
    await expectTriedBeforeACrashParked(connection, setup, layer, spec, settings);
  },
};

/** Waits for a second try of the poison message after its first failure; undefined when it came, else what held it back. */
async function heldBackSecondTry(
  worker: FailingWorker,
  tries: () => FailingWorker['tries'],
  setup: ConfirmChannel,
  settings: TopologySettings,
): Promise<string | undefined> {
  const retryQueue = retryQueueName(QUEUES.inventory);
  try {
    await waitFor(
      () => {
        worker.rethrow();
        if (worker.outcomes[0] === 'parked') throw new CheckFailure('a retry after the first failure', 'it was parked at once');
        return tries().length >= 2 ? true : undefined;
      },
      'a second try after the first failure',
      () => '',
      settings.retryDelayMs + 1000,
    );
    return undefined;
  } catch (error) {
    if (!(error instanceof CheckFailure) || error.seen !== '') throw error;
    const waiting = (await setup.checkQueue(retryQueue)).messageCount;
    if (worker.outcomes.length === 0)
      return `handleFailure had not resolved ${settings.retryDelayMs + 1000} ms after the failure, and ${retryQueue} held ${waiting} message(s)`;
    const notNacked = waiting === 0 ? ': handleFailure returned without nacking the message into it' : '';
    return `only ${tries().length} try (outcome: ${worker.outcomes[0]}); ${retryQueue} holds ${waiting} message(s)${notNacked}`;
  }
}

/** Why the poison message still held up the healthy one, after it was tried `tries` times. */
function whyStillStuck(worker: FailingWorker, tries: number): string {
  if (worker.outcomes.length < tries) return ' and handleFailure never resolved for its last failure';
  if (worker.outcomes.at(-1) === 'retrying')
    return `, then handleFailure returned retrying, but with prefetch 1 the broker sends the next message only once that delivery is settled: it was not`;
  return '';
}

/** The healthy message right behind the poison one is handled right after the poison's first failure. */
async function expectNotHeldUp(worker: FailingWorker, poisonTries: () => FailingWorker['tries'], healthyId: string): Promise<void> {
  await waitFor(
    () => {
      worker.rethrow();
      if (poisonTries().length > 20) {
        throw new CheckFailure(
          'the healthy message behind the failing one to be handled',
          `the failing message was tried ${poisonTries().length} times in a row`,
          REQUEUE_HINT,
        );
      }
      return worker.handled.includes(healthyId) ? true : undefined;
    },
    'the healthy message behind the failing one to be handled',
    () =>
      `it never was; the failing message was tried ${poisonTries().length} time(s)${whyStillStuck(worker, poisonTries().length)}` +
      (worker.outcomes.length === 0 ? ' (a timer in the consumer holds the message, and with it everything behind it)' : ''),
    1500,
  ).catch((error: unknown) => {
    if (error instanceof CheckFailure && error.hint === undefined && worker.outcomes.length === 0 && poisonTries().length > 0)
      throw new CheckFailure(error.expected, error.seen, TIMER_HINT);
    return withSettleHint(() => worker.outcomes.length < poisonTries().length || worker.outcomes.at(-1) === 'retrying')(error);
  });
  const before = worker.tries.findIndex((t) => t.messageId === healthyId);
  expectThat(
    before <= 1,
    'the healthy message handled right after the first failure of the failing one',
    `it came after ${before} tries of the failing message (${describeReturns(poisonTries())})`,
    poisonTries().some((t) => t.redelivered) ? REQUEUE_HINT : undefined,
  );
}

export const retryDelay: Check<'deadLetters'> = {
  id: '06.retry-delay',
  name: `a failed message waits the retry delay (${CHECK_SETTINGS.retryDelayMs} ms) in its retry queue, not in the consumer, before its next try, and does not hold up the messages behind it`,
  hint: "The broker does the waiting: a message dead-lettered into <queue>.retry comes back when that queue's TTL expires it, and meanwhile the consumer is free for the next one (README § The retry loop).",
  async run({ layer, reference, connect, topology, settings }) {
    const connection = await connect();
    const setup = await connection.createConfirmChannel();
    await declare(setup, topology, reference, retryLoop(QUEUES.inventory));
    const spec = queueSpec(topology, QUEUES.inventory);
    // The retry queue sends the message back after settings.retryDelayMs. handleFailure gets a spec
    // that says 30 s: code that does the waiting itself (a timer) shows up as no second try at all.
    const slow: QueueSpec = spec.failure.kind === 'retry' ? { ...spec, failure: { ...spec.failure, delayMs: 30_000 } } : spec;
    const failing = paymentFailed('order-retry-delay');
    const healthy = paymentFailed('order-healthy');
    await sendTo(setup, QUEUES.inventory, failing);
    await sendTo(setup, QUEUES.inventory, healthy); // waiting right behind the failing one
    const worker = await consumeWithFailures(
      connection,
      layer,
      spec,
      (message) => (message.properties.messageId === failing.messageId ? 'payment service is down' : undefined),
      slow,
    );
    const failingTries = () => worker.tries.filter((t) => t.messageId === failing.messageId);

    await expectNotHeldUp(worker, failingTries, healthy.messageId);
    const heldBack = await heldBackSecondTry(worker, failingTries, setup, settings);
    expectThat(
      heldBack === undefined,
      `a second try ${settings.retryDelayMs} ms after the first, when ${retryQueueName(QUEUES.inventory)} sends it back`,
      heldBack ?? '',
      worker.outcomes.length === 0 ? TIMER_HINT : SETTLE_HINT,
    );
    const [first, second] = failingTries() as [(typeof worker.tries)[0], (typeof worker.tries)[0]];
    const gap = second.at - first.at;
    const how = second.redelivered ? 'redelivered: it was requeued' : 'not through the retry queue';
    const xDeath = second.fromRetryQueue ? 'x-death counts the retry queue' : 'x-death does not name the retry queue';
    expectThat(
      !second.redelivered && second.fromRetryQueue,
      `the second try to come back from ${retryQueueName(QUEUES.inventory)} (x-death says it expired there)`,
      `it came ${gap} ms later, ${how} (${xDeath})`,
      second.redelivered ? REQUEUE_HINT : undefined,
    );
    expectThat(
      gap >= settings.retryDelayMs - 15,
      `the second try at least ${settings.retryDelayMs} ms after the first`,
      `it came ${gap} ms later`,
    );
  },
};
