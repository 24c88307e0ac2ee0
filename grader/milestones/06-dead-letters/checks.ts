// Milestone 6: dead letters and retries. The checks fail messages on purpose and watch where the
// broker takes them: into `<queue>.retry` and back (timestamps, x-death, the redelivered flag), or
// into dead-letter.queue (the copy's properties and headers); and whether each original was settled
// exactly once. Only the part under test is the learner's: the queues are declared with the reference
// arguments except in the check of queueArguments itself.
import type { ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { ExerciseNotWrittenError } from '../../../shared/workshop/exercise.ts';
import { type FailureOutcome, PARK_HEADERS } from '../../../shared/layers/06-dead-letters.ts';
import { type DomainEvent, newEvent } from '../../../shared/messages/events.ts';
import { describeError } from '../../../shared/log.ts';
import { buildTopology, EXCHANGES, QUEUES, queueSpec, retryQueueName } from '../../../shared/topology/topology.ts';
import type { QueueSpec } from '../../../shared/topology/types.ts';
import { codec } from '../../../solutions/layers/01-publish-consume.ts';
import { CheckFailure, defineChecks, expectThat } from '../../check.ts';
import { CHECK_SETTINGS } from '../../context.ts';
import {
  consumeWithFailures,
  deathsOf,
  declare,
  describeReturns,
  expectOpen,
  inbox,
  outcomesOf,
  parkScene,
  REQUEUE_HINT,
  retryLoop,
  SETTLE_HINT,
  sendTo,
  watchDeadLetterQueue,
} from './support.ts';
import { sampleOrderCreated, waitFor } from '../../checks/support.ts';

/** Where the delay itself is not under test, a short one keeps grading fast. */
const FAST_RETRY_MS = 20;
/** The notification TTL for the check of queueArguments (CHECK_SETTINGS' 1 s would be most of the budget). */
const SHORT_TTL_MS = 300;

function paymentFailed(orderId: string, reason = 'card declined'): DomainEvent {
  return newEvent('payment.failed', { orderId, source: 'payment', payload: { reason, amount: 700 } });
}

const PARK_HEADERS_HINT = 'The copy tells its story in the PARK_HEADERS, added to the headers it already had (README § Parking).';

/**
 * Takes the first delivery of `queue`, cancels the consumer (so nothing else takes that message when
 * it goes back) and hands the delivery to `call` (the graded park or handleFailure) while
 * dead-letter.queue refuses everything, and waits until that settles. Then, the channel still open,
 * how many messages are ready in the queue: a message nacked back is there, one left unacked is not.
 * Then the channel closed: what was not settled for good goes back.
 */
async function refusedPark(connection: ChannelModel, queue: string, what: string, call: (channel: ConfirmChannel, message: ConsumeMessage) => Promise<unknown>, readyWanted: number) {
  const worker = await connection.createConfirmChannel();
  let closedBy: unknown;
  worker.on('error', (error: unknown) => (closedBy ??= error));
  await worker.prefetch(1);
  let called = false;
  let resolved = false;
  let rejected: unknown;
  let settled: string | undefined;
  await worker.consume(queue, (message) => {
    if (!message || called) return;
    called = true;
    worker
      .cancel(message.fields.consumerTag)
      .then(() => call(worker, message))
      .then(
        (value) => {
          resolved = true;
          settled = `resolved${value === undefined ? '' : ` with ${JSON.stringify(value)}`} as if the copy were safe`;
        },
        (error: unknown) => {
          rejected = error;
          settled = `rejected with "${describeError(error)}"`;
        },
      );
  });
  await waitFor(
    () => {
      if (rejected instanceof ExerciseNotWrittenError) throw rejected;
      return settled;
    },
    `${what} to resolve or reject once the broker refused the copy`,
    () => (called ? 'it was still waiting after 2 s' : 'the message never reached the consumer'),
    2000,
  );
  // Asked on the worker's own channel, the count comes after any nack it sent; a delivery settled twice closes it.
  const readyOnWorker = () => worker.checkQueue(queue).then(({ messageCount }) => messageCount, () => undefined);
  let readyWhileOpen: number | undefined;
  const counted = async () => {
    readyWhileOpen = await readyOnWorker();
    return readyWhileOpen === readyWanted || readyWhileOpen === undefined ? true : undefined;
  };
  await waitFor(counted, `${readyWanted} message(s) ready`, () => `${readyWhileOpen}`, 500).catch(() => {}); // the check says what it saw
  await new Promise((resolve) => setImmediate(resolve));
  await worker.close().catch(() => {}); // whatever is still unacked goes back to the queue
  return { settled, resolved, closedBy, readyWhileOpen };
}

function headersOf(message: ConsumeMessage): Record<string, unknown> {
  return message.properties.headers ?? {};
}

/** The arguments this milestone is about, as the broker holds them, keys sorted. */
function deadLetterArguments(args: Record<string, unknown> | undefined): Record<string, unknown> {
  const entries = Object.entries(args ?? {}).filter(([key]) => key.startsWith('x-dead-letter-') || key === 'x-message-ttl');
  return Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)));
}

export const checks = defineChecks('deadLetters', [
  {
    id: '06.queue-arguments',
    name: 'queueArguments: a rejected message comes back from its retry queue, and an unread notification expires into dead-letter.queue',
    hint: "Each queue's spec says it all: its failure policy, deadLetterTo and messageTtlMs (shared/topology/types.ts). See README § Dead-lettering and § TTL.",
    timeoutMs: 7000,
    async run({ layers, reference, connect, settings, vhost }) {
      const topology = buildTopology({ ...settings, notificationTtlMs: SHORT_TTL_MS });
      const connection = await connect();
      const channel = await connection.createConfirmChannel();
      const queues = [...retryLoop(QUEUES.inventory), QUEUES.notificationEmail, QUEUES.notificationSms, QUEUES.deliveryDelay, QUEUES.unroutable];
      await declare(channel, topology, layers, queues);

      // The arguments as the broker holds them, next to what each queue's spec says.
      const wrong: string[] = [];
      let hint: string | undefined;
      const infos = await Promise.all(
        queues.map((name) => vhost.api.request<{ arguments?: Record<string, unknown> }>('GET', `/queues/${encodeURIComponent(vhost.name)}/${encodeURIComponent(name)}`)),
      );
      for (const [index, name] of queues.entries()) {
        const declared = deadLetterArguments(infos[index]?.arguments);
        const wanted = deadLetterArguments(reference.deadLetters.queueArguments(queueSpec(topology, name)));
        const keys = [...new Set([...Object.keys(declared), ...Object.keys(wanted)])].sort();
        const differences = keys
          .filter((key) => JSON.stringify(declared[key]) !== JSON.stringify(wanted[key]))
          .map((key) => `${key} ${key in declared ? `= ${JSON.stringify(declared[key])}` : 'missing'}${key in wanted ? `, its spec says ${JSON.stringify(wanted[key])}` : ', its spec says none'}`);
        if (differences.length > 0) wrong.push(`${name}: ${differences.join('; ')}`);
        if (wanted['x-dead-letter-exchange'] === '' && declared['x-dead-letter-exchange'] === undefined) {
          hint ??= "deadLetterTo.exchange is '' for the retry queues (the default exchange): a test like `if (spec.deadLetterTo?.exchange)` is false for it.";
        }
      }
      expectThat(wrong.length === 0, 'every queue declared with the dead-letter arguments and TTL its spec says, and no others', wrong.join(' | '), hint);

      const parked = await watchDeadLetterQueue(connection);
      const inventory = await inbox(connection, QUEUES.inventory);
      const event = sampleOrderCreated();
      const { content, options } = codec.encode(event);
      const published = Date.now();
      channel.publish(EXCHANGES.order, event.type, content, { ...options, persistent: true });
      await channel.waitForConfirms();

      // The copy in inventory.queue: reject it, and it should come back after the retry queue's TTL.
      const first = await inventory.next('order.created in inventory.queue', () => 'inventory.queue stayed empty');
      const rejected = Date.now();
      inventory.channel.nack(first, false, false);
      const back = await inventory.next(`the rejected message back in ${QUEUES.inventory} after the ${settings.retryDelayMs} ms retry delay`, () => 'it did not come back');
      const waited = Date.now() - rejected;
      expectThat(waited >= settings.retryDelayMs - 20, `the rejected message to wait ${settings.retryDelayMs} ms in ${retryQueueName(QUEUES.inventory)}`, `it was back after ${waited} ms (${deathsOf(back)})`);
      inventory.channel.ack(back);

      // The email and SMS copies: nobody reads them, so they expire after the TTL into dead-letter.queue.
      const expired = await waitFor(
        () => {
          const copies = parked.filter((m) => m.properties.messageId === event.messageId);
          return copies.length >= 2 ? copies : undefined;
        },
        `both notification copies of the event in dead-letter.queue after the ${SHORT_TTL_MS} ms TTL`,
        () => `${parked.filter((m) => m.properties.messageId === event.messageId).length} arrived`,
        SHORT_TTL_MS + 2500,
      );
      const after = Date.now() - published;
      expectThat(after >= SHORT_TTL_MS - 50, `the notifications to expire after ${SHORT_TTL_MS} ms`, `they were in dead-letter.queue after ${after} ms`);
      const reasons = expired.map((m) => m.properties.headers?.['x-death']?.[0]).map((d) => `${d?.queue}: ${d?.reason}`).sort();
      const wanted = [`${QUEUES.notificationEmail}: expired`, `${QUEUES.notificationSms}: expired`];
      expectThat(JSON.stringify(reasons) === JSON.stringify(wanted), `x-death saying ${wanted.join(' and ')}`, reasons.join(' and '));
    },
  },
  {
    id: '06.attempts-so-far',
    name: "attemptsSoFar counts only this queue's rejections in the x-death header",
    hint: 'x-death has one entry per (queue, reason), each with a count. Which of them are tries of this queue? See README § x-death.',
    async run({ layer, reference, connect, settings }) {
      const connection = await connect();
      const channel = await connection.createConfirmChannel();
      await declare(channel, buildTopology({ ...settings, retryDelayMs: FAST_RETRY_MS }), reference, [...retryLoop(QUEUES.order), ...retryLoop(QUEUES.inventory)]);
      const order = await inbox(connection, QUEUES.order);
      const inventory = await inbox(connection, QUEUES.inventory);
      const seenX = (m: ConsumeMessage) => `x-death: ${deathsOf(m)}`;
      const doubleCounted = "The retry queue's own entries (reason 'expired') are the same tries seen a second time.";

      // First a rejection from another queue: it must not count for inventory.queue.
      await sendTo(channel, QUEUES.order, paymentFailed('order-x-death'));
      const fresh = await order.next('the message in order.queue', () => 'order.queue stayed empty');
      const fromFresh = layer.attemptsSoFar(fresh, QUEUES.order);
      expectThat(fromFresh === 0, 'attemptsSoFar(a message never rejected, "order.queue") = 0', `${fromFresh}, ${seenX(fresh)}`);
      order.channel.nack(fresh, false, false);
      const retried = await order.next('the message back in order.queue', () => 'it did not come back');
      const fromOrder = layer.attemptsSoFar(retried, QUEUES.order);
      expectThat(fromOrder === 1, 'attemptsSoFar(message, "order.queue") = 1 after one rejection there', `${fromOrder}, ${seenX(retried)}`, fromOrder === 2 ? doubleCounted : undefined);
      // Replayed into inventory.queue with its headers, as someone fixing a parked message would.
      channel.sendToQueue(QUEUES.inventory, retried.content, { ...retried.properties, headers: retried.properties.headers });
      order.channel.ack(retried);
      await channel.waitForConfirms();

      for (let rejections = 0; rejections < 3; rejections++) {
        const message = await inventory.next('the message back in inventory.queue', () => 'it did not come back');
        const counted = layer.attemptsSoFar(message, QUEUES.inventory);
        expectThat(
          counted === rejections,
          `attemptsSoFar(message, "inventory.queue") = ${rejections} after ${rejections} rejection(s) from inventory.queue`,
          `${counted}, ${seenX(message)}`,
          counted === 2 * rejections && rejections > 0 ? doubleCounted : undefined,
        );
        inventory.channel.nack(message, false, false);
      }
    },
  },
  {
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

      const copy = await waitFor(
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
        () =>
          `after ${worker.tries.length} tries it was not parked (outcomes: ${outcomesOf(worker.outcomes)})` +
          (worker.outcomes.at(-1) === 'retrying' && worker.outcomes.length === worker.tries.length ? ', and after the last "retrying" the message never came back: it was not nacked into the retry queue' : ''),
        2000, // three tries FAST_RETRY_MS apart take a fraction of that
      ).catch((error: unknown) => {
        if (error instanceof CheckFailure && error.hint === undefined && worker.outcomes.at(-1) === 'retrying') throw new CheckFailure(error.expected, error.seen, SETTLE_HINT);
        throw error;
      });
      const outcomes = outcomesOf(worker.outcomes);
      expectThat(worker.tries.length === settings.maxAttempts, `${settings.maxAttempts} tries, then parked`, `${worker.tries.length} tries (outcomes: ${outcomes})`);
      const wanted = outcomesOf([...Array.from({ length: settings.maxAttempts - 1 }, (): FailureOutcome => 'retrying'), 'parked']);
      expectThat(outcomes === wanted, `handleFailure to return ${wanted}`, outcomes);

      const headers = headersOf(copy);
      const reason = headers[PARK_HEADERS.reason];
      expectThat(typeof reason === 'string' && reason.includes('stock database unavailable'), 'x-failure-reason with the last error ("stock database unavailable")', `x-failure-reason = ${JSON.stringify(reason)}`, PARK_HEADERS_HINT);
      expectThat(headers[PARK_HEADERS.queue] === QUEUES.inventory, `x-original-queue = "${QUEUES.inventory}"`, `x-original-queue = ${JSON.stringify(headers[PARK_HEADERS.queue])}`, PARK_HEADERS_HINT);
      expectThat(headers[PARK_HEADERS.attempts] === settings.maxAttempts, `x-attempts = ${settings.maxAttempts}`, `x-attempts = ${JSON.stringify(headers[PARK_HEADERS.attempts])}`, PARK_HEADERS_HINT);
      await worker.expectAllSettled(setup, 'the parked original');

      // A message that already failed twice here, under a worker that has since crashed: x-death
      // remembers it, so its next failure is its last.
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
    },
  },
  {
    id: '06.retry-delay',
    name: `a failed message waits the retry delay (${CHECK_SETTINGS.retryDelayMs} ms) in its retry queue, not in the consumer, before its next try`,
    hint: "The broker does the waiting: a message dead-lettered into <queue>.retry comes back when that queue's TTL expires it (README § The retry loop).",
    async run({ layer, reference, connect, topology, settings }) {
      const connection = await connect();
      const setup = await connection.createConfirmChannel();
      await declare(setup, topology, reference, retryLoop(QUEUES.inventory));
      const spec = queueSpec(topology, QUEUES.inventory);
      // The retry queue sends the message back after settings.retryDelayMs. handleFailure gets a spec
      // that says 30 s: code that does the waiting itself (a timer) shows up as no second try at all.
      const slow: QueueSpec = spec.failure.kind === 'retry' ? { ...spec, failure: { ...spec.failure, delayMs: 30_000 } } : spec;
      const worker = await consumeWithFailures(connection, layer, spec, () => 'payment service is down', slow);
      await sendTo(setup, QUEUES.inventory, paymentFailed('order-retry-delay'));

      let heldBack: string | undefined;
      try {
        await waitFor(
          () => {
            worker.rethrow();
            if (worker.outcomes[0] === 'parked') throw new CheckFailure('a retry after the first failure', 'it was parked at once');
            return worker.tries.length >= 2 ? true : undefined;
          },
          'a second try after the first failure',
          () => '',
          settings.retryDelayMs + 1000,
        );
      } catch (error) {
        if (!(error instanceof CheckFailure) || error.seen !== '') throw error;
        const waiting = (await setup.checkQueue(retryQueueName(QUEUES.inventory))).messageCount;
        heldBack =
          worker.outcomes.length === 0
            ? `handleFailure had not resolved ${settings.retryDelayMs + 1000} ms after the failure, and ${retryQueueName(QUEUES.inventory)} held ${waiting} message(s)`
            : `only ${worker.tries.length} try (outcome: ${worker.outcomes[0]}); ${retryQueueName(QUEUES.inventory)} holds ${waiting} message(s)${waiting === 0 ? ': handleFailure returned without nacking the message into it' : ''}`;
      }
      expectThat(
        heldBack === undefined,
        `a second try ${settings.retryDelayMs} ms after the first, when ${retryQueueName(QUEUES.inventory)} sends it back`,
        heldBack ?? '',
        worker.outcomes.length === 0 ? 'Do not wait in your code (a timer holds the message in the consumer): settle it at once and let the retry queue wait.' : SETTLE_HINT,
      );
      const [first, second] = worker.tries as [(typeof worker.tries)[0], (typeof worker.tries)[0]];
      const gap = second.at - first.at;
      expectThat(
        !second.redelivered && second.fromRetryQueue,
        `the second try to come back from ${retryQueueName(QUEUES.inventory)} (x-death says it expired there)`,
        `it came ${gap} ms later, ${second.redelivered ? 'redelivered: it was requeued' : 'not through the retry queue'} (${second.fromRetryQueue ? 'x-death counts the retry queue' : 'x-death does not name the retry queue'})`,
        second.redelivered ? REQUEUE_HINT : undefined,
      );
      expectThat(gap >= settings.retryDelayMs - 15, `the second try at least ${settings.retryDelayMs} ms after the first`, `it came ${gap} ms later`);
    },
  },
  {
    id: '06.poison',
    name: 'a poison message does not hold up the messages behind it',
    hint: 'With prefetch 1 the next message is delivered only once the failed one is settled, and settled somewhere other than the head of its own queue.',
    after: ['06.retry-delay'],
    async run({ layer, reference, connect, topology }) {
      const connection = await connect();
      const setup = await connection.createConfirmChannel();
      await declare(setup, topology, reference, retryLoop(QUEUES.inventory));
      const poison = paymentFailed('order-poison');
      const healthy = paymentFailed('order-healthy');
      await sendTo(setup, QUEUES.inventory, poison);
      await sendTo(setup, QUEUES.inventory, healthy); // waiting right behind the poison message
      const worker = await consumeWithFailures(connection, layer, queueSpec(topology, QUEUES.inventory), (message) =>
        message.properties.messageId === poison.messageId ? 'cannot read this order' : undefined,
      );
      const poisonTries = () => worker.tries.filter((t) => t.messageId === poison.messageId);

      await waitFor(
        () => {
          worker.rethrow();
          if (poisonTries().length > 20) {
            throw new CheckFailure('the healthy message behind the poison one to be handled', `the poison message was tried ${poisonTries().length} times in a row`, REQUEUE_HINT);
          }
          return worker.handled.includes(healthy.messageId) ? true : undefined;
        },
        'the healthy message behind the poison one to be handled',
        () => {
          const tries = poisonTries().length;
          const unsettled = worker.outcomes.length < tries ? ' and handleFailure never resolved for its last failure' : worker.outcomes.at(-1) === 'retrying' ? `, then handleFailure returned retrying, but with prefetch 1 the broker sends the next message only once that delivery is settled: it was not` : '';
          return `it never was; the poison message was tried ${tries} time(s)${unsettled}`;
        },
        1500,
      ).catch((error: unknown) => {
        if (error instanceof CheckFailure && error.hint === undefined && (worker.outcomes.length < poisonTries().length || worker.outcomes.at(-1) === 'retrying')) {
          throw new CheckFailure(error.expected, error.seen, SETTLE_HINT);
        }
        throw error;
      });
      const before = worker.tries.findIndex((t) => t.messageId === healthy.messageId);
      expectThat(
        before <= 1,
        'the healthy message handled right after the first failure of the poison one',
        `it came after ${before} tries of the poison message (${describeReturns(poisonTries())})`,
        poisonTries().some((t) => t.redelivered) ? REQUEUE_HINT : undefined,
      );
    },
  },
  {
    id: '06.parked-copy',
    name: "a parked copy is persistent and keeps the original's body, properties and headers, with the reason headers added",
    hint: 'The copy is what a person replays later: everything the original carried, plus the PARK_HEADERS (README § Parking).',
    async run({ layer, reference, connect, topology }) {
      const connection = await connect();
      const { setup, parked } = await parkScene(connection, topology, reference, [QUEUES.inventory, QUEUES.deadLetter]);
      const spec = queueSpec(topology, QUEUES.inventory);

      // An original with every property the system sets, a header of its own and a non-ASCII body.
      const event = paymentFailed('order-zoë-🍵', 'carte refusée — Zoë');
      const { content, options } = codec.encode(event);
      const original = { ...options, priority: 7, persistent: true, headers: { ...options.headers, 'x-trace-id': 'trace-ü-42' } };
      setup.publish(EXCHANGES.order, event.type, content, original);
      await setup.waitForConfirms();

      const reason = 'stock database unavailable — ürgent';
      const worker = await consumeWithFailures(connection, layer, spec, () => reason, spec, async (channel, message) => {
        await layer.park(channel, message, reason, spec);
        return 'parked';
      });
      await waitFor(
        () => {
          worker.rethrow();
          return worker.outcomes.length > 0 ? true : undefined;
        },
        'park to resolve',
        () => (worker.tries.length === 0 ? 'the message never reached the consumer' : 'it was still waiting after 3 s'),
      );

      const copy = await waitFor(
        () => parked.find((m) => m.properties.messageId === event.messageId),
        'the copy in dead-letter.queue once park resolved',
        () => `dead-letter.queue got nothing${parked.length > 0 ? ` with this messageId (${parked.length} other message(s))` : ''}`,
      );
      const problems: string[] = [];
      let hint: string | undefined;
      if (copy.properties.deliveryMode !== 2) {
        problems.push(`deliveryMode ${copy.properties.deliveryMode ?? 'unset'} (not persistent: lost if the broker restarts)`);
        hint ??= 'A parked message is kept until a person looks at it, broker restarts included.';
      }
      if (!copy.content.equals(content)) problems.push(`a different body: ${copy.content.toString('utf8').slice(0, 100)}`);
      for (const property of ['messageId', 'correlationId', 'type', 'timestamp', 'contentType', 'appId', 'priority'] as const) {
        if (copy.properties[property] !== original[property]) {
          problems.push(`${property} ${JSON.stringify(copy.properties[property])} (the original's: ${JSON.stringify(original[property])})`);
          hint ??= "The copy starts from the original's properties; a person replaying it needs them all.";
        }
      }
      const headers = headersOf(copy);
      for (const [header, value] of Object.entries(original.headers)) {
        if (headers[header] !== value) {
          problems.push(`header ${header} ${header in headers ? `= ${JSON.stringify(headers[header])}` : 'missing'} (the original's: ${JSON.stringify(value)})`);
          hint ??= "Add the park headers to the original's headers, rather than replacing them.";
        }
      }
      const added: Record<string, unknown> = {
        [PARK_HEADERS.reason]: reason,
        [PARK_HEADERS.queue]: QUEUES.inventory,
        [PARK_HEADERS.exchange]: EXCHANGES.order,
        [PARK_HEADERS.routingKey]: event.type,
        [PARK_HEADERS.attempts]: 1,
      };
      for (const [header, value] of Object.entries(added)) {
        if (headers[header] !== value) problems.push(`${header} ${header in headers ? `= ${JSON.stringify(headers[header])}` : 'missing'} (expected ${JSON.stringify(value)})`);
      }
      const parkedAt = headers[PARK_HEADERS.parkedAt];
      if (typeof parkedAt !== 'string' || Number.isNaN(Date.parse(parkedAt))) problems.push(`${PARK_HEADERS.parkedAt} = ${JSON.stringify(parkedAt)} (expected an ISO date)`);
      expectThat(problems.length === 0, "a persistent copy with the original's body, properties and headers, plus the park headers", problems.join('; '), hint);
      await worker.expectAllSettled(setup, 'the parked original');
    },
  },
  {
    id: '06.park-at-once',
    name: 'a failed notification is parked at once, with its reason, and not retried',
    hint: "A queue whose failure policy is 'park' has no retry queue: its failures go to dead-letter.queue at once (README § Parking).",
    async run({ layer, reference, connect, topology }) {
      const connection = await connect();
      const { setup, parked } = await parkScene(connection, topology, reference, [QUEUES.notificationEmail, QUEUES.deadLetter]);
      const email = queueSpec(topology, QUEUES.notificationEmail);
      const worker = await consumeWithFailures(connection, layer, email, () => 'mail server refused');
      const event = sampleOrderCreated('order-notify');
      await sendTo(setup, QUEUES.notificationEmail, event);

      const copy = await waitFor(
        () => {
          worker.rethrow();
          const found = parked.find((m) => m.properties.messageId === event.messageId);
          return found && worker.outcomes.length > 0 ? found : undefined;
        },
        'the notification in dead-letter.queue',
        () => `it was not there (tries: ${worker.tries.length}, outcomes: ${outcomesOf(worker.outcomes)})`,
      );
      const headers = headersOf(copy);
      const reason = headers[PARK_HEADERS.reason];
      expectThat(
        typeof reason === 'string' && reason.includes('mail server refused'),
        'x-failure-reason with the error ("mail server refused")',
        `x-failure-reason = ${JSON.stringify(reason)}${headers['x-death'] ? ` and ${deathsOf(copy)}: it was dead-lettered by a nack, not parked` : ''}`,
        headers['x-death'] ? undefined : PARK_HEADERS_HINT,
      );
      expectThat(worker.tries.length === 1 && worker.outcomes[0] === 'parked', 'one try, outcome parked', `${worker.tries.length} tries, outcomes: ${outcomesOf(worker.outcomes)}`);
      expectThat(headers[PARK_HEADERS.attempts] === 1, 'x-attempts = 1', `x-attempts = ${JSON.stringify(headers[PARK_HEADERS.attempts])}`);
      await worker.expectAllSettled(setup, 'the parked notification');
    },
  },
  {
    id: '06.park-confirmed',
    name: 'a message whose dead-letter copy the broker refuses stays in its queue, and park and handleFailure say they failed',
    hint: 'The original may go only once the broker has confirmed the copy; a refused copy (a nack from the broker) means the original must stay (README § Settling exactly once).',
    async run({ layer, connect, topology }) {
      const connection = await connect();
      const setup = await connection.createConfirmChannel();
      // A dead-letter queue that refuses every message: the broker nacks the parked copy.
      await setup.assertExchange(EXCHANGES.deadLetter, 'fanout', { durable: true });
      await setup.assertQueue(QUEUES.deadLetter, { durable: true, arguments: { 'x-max-length': 0, 'x-overflow': 'reject-publish' } });
      await setup.bindQueue(QUEUES.deadLetter, EXCHANGES.deadLetter, '');
      const email = queueSpec(topology, QUEUES.notificationEmail);
      await setup.assertQueue(email.name, { durable: true });

      // First park itself, then handleFailure (which parks a failed notification at once).
      const attempts = [
        { what: 'park', call: (channel: ConfirmChannel, message: ConsumeMessage) => layer.park(channel, message, 'testing a refused park', email) },
        { what: 'handleFailure', call: (channel: ConfirmChannel, message: ConsumeMessage) => layer.handleFailure(channel, message, new Error('mail server refused'), email) },
      ];
      for (const [index, { what, call }] of attempts.entries()) {
        await sendTo(setup, email.name, sampleOrderCreated(`order-unparkable-${index + 1}`));
        const { settled, resolved, closedBy, readyWhileOpen } = await refusedPark(connection, email.name, what, call, index + 1);
        const { messageCount } = await setup.checkQueue(email.name);
        expectThat(
          messageCount === index + 1,
          `the message back in its queue after the broker refused (nacked) its dead-letter copy`,
          `it was settled for good although the copy was refused; ${what} ${settled}${closedBy ? `, and the broker closed the channel: ${describeError(closedBy)}` : ''}`,
        );
        expectOpen(closedBy);
        expectThat(
          readyWhileOpen === index + 1,
          `the message back in its queue, ready for another consumer, once ${what} had settled (its channel still open)`,
          `${readyWhileOpen ?? 'no'} message(s) ready: the original was still held unacked by the channel, so only closing the channel would have given it back; ${what} ${settled}`,
        );
        expectThat(
          !resolved,
          `${what} to reject, so its caller knows the message was not parked`,
          `${what} ${settled}`,
          what === 'park' ? 'When the copy is refused, say so: the caller must not count the message as parked.' : 'handleFailure resolves once the delivery is settled for good: a park that failed is a failure of handleFailure too.',
        );
      }
    },
  },
]);
