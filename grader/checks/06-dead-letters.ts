// Milestone 6: dead letters and retries. The checks fail messages on purpose and watch where the
// broker takes them: into `<queue>.retry` and back (timestamps, x-death), or into dead-letter.queue
// (headers). Only the part under test is the learner's: the queues are declared with the reference
// arguments except in the check of queueArguments itself.
import type { ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { ExerciseNotWrittenError } from '../../shared/workshop/exercise.ts';
import { type DeadLetterLayer, type FailureOutcome, PARK_HEADERS } from '../../shared/layers/06-dead-letters.ts';
import type { Layers } from '../../shared/layers/index.ts';
import { type DomainEvent, newEvent } from '../../shared/messages/events.ts';
import { describeError } from '../../shared/log.ts';
import { buildTopology, EXCHANGES, QUEUES, queueSpec, retryQueueName } from '../../shared/topology/topology.ts';
import type { QueueSpec, Topology } from '../../shared/topology/types.ts';
import { codec } from '../../solutions/layers/01-publish-consume.ts';
import { declareTopology } from '../../solutions/runtime/declare-topology.ts';
import { CheckFailure, defineChecks, expectThat } from '../check.ts';
import { CHECK_SETTINGS } from '../context.ts';
import { sampleOrderCreated, waitFor } from './support.ts';

/** Where the delay itself is not under test, a short one keeps grading fast. */
const FAST_RETRY_MS = 20;
/** The notification TTL for the check of queueArguments (CHECK_SETTINGS' 1 s would be most of the budget). */
const SHORT_TTL_MS = 300;

function paymentFailed(orderId: string): DomainEvent {
  return newEvent('payment.failed', { orderId, source: 'payment', payload: { reason: 'card declined', amount: 700 } });
}

/**
 * Declares the named queues, with the exchanges and bindings that lead to them (one exchange-to-exchange
 * hop included), the way the services do; `layers` decides whose queue arguments are used. A part of
 * the topology rather than all of it keeps each check quick.
 */
async function declare(channel: ConfirmChannel, topology: Topology, layers: Layers, queues: string[]): Promise<void> {
  const wanted = new Set(queues);
  const toQueues = topology.bindings.filter((b) => b.destinationKind === 'queue' && wanted.has(b.destination));
  const sources = new Set(toQueues.map((b) => b.source));
  const bindings = [...toQueues, ...topology.bindings.filter((b) => b.destinationKind === 'exchange' && sources.has(b.destination))];
  const exchanges = new Set(bindings.flatMap((b) => (b.destinationKind === 'exchange' ? [b.source, b.destination] : [b.source])));
  const part: Topology = {
    queues: topology.queues.filter((q) => wanted.has(q.name)),
    exchanges: topology.exchanges.filter((e) => exchanges.has(e.name)),
    bindings,
  };
  try {
    await declareTopology(channel, part, layers, 'classic');
  } catch (error) {
    if (error instanceof ExerciseNotWrittenError) throw error;
    throw new CheckFailure('the queues to be declared with your arguments', `the broker refused them: ${describeError(error)}`);
  }
}

/** A queue, its retry queue, and the dead-letter queue. */
function retryLoop(queue: string): string[] {
  return [queue, retryQueueName(queue), QUEUES.deadLetter];
}

/** Sends an event straight to a queue (through the default exchange) and waits for the confirm. */
async function sendTo(channel: ConfirmChannel, queue: string, event: DomainEvent): Promise<void> {
  const { content, options } = codec.encode(event);
  channel.sendToQueue(queue, content, { ...options, persistent: true });
  await channel.waitForConfirms();
}

/** Every message that reaches dead-letter.queue from now on. */
async function watchDeadLetterQueue(connection: ChannelModel): Promise<ConsumeMessage[]> {
  const parked: ConsumeMessage[] = [];
  const channel = await connection.createChannel();
  await channel.consume(QUEUES.deadLetter, (message) => void (message && parked.push(message)), { noAck: true });
  return parked;
}

/** A queue's deliveries as they arrive, for a check that settles each one by hand. */
async function inbox(connection: ChannelModel, queue: string) {
  const channel = await connection.createConfirmChannel();
  const arrived: ConsumeMessage[] = [];
  await channel.consume(queue, (message) => void (message && arrived.push(message)));
  const next = (expected: string, seen: () => string) => waitFor(() => arrived.shift(), expected, seen, 2000);
  return { channel, next };
}

interface Try {
  at: number;
  messageId: string;
}

/**
 * Consumes `spec.name` with prefetch 1, like a service worker. The handler decides whether a delivery
 * fails; failures go to the learner's handleFailure. Errors it throws are kept for the check to rethrow.
 */
async function consumeWithFailures(connection: ChannelModel, layer: DeadLetterLayer, spec: QueueSpec, fails: (message: ConsumeMessage) => string | undefined) {
  const channel = await connection.createConfirmChannel();
  channel.on('error', () => {}); // the check reports what it sees; a closed channel must not crash the grader
  await channel.prefetch(1);
  const tries: Try[] = [];
  const handled: string[] = [];
  const outcomes: FailureOutcome[] = [];
  const errors: unknown[] = [];
  await channel.consume(spec.name, (message) => {
    if (!message) return;
    const messageId = String(message.properties.messageId);
    tries.push({ at: Date.now(), messageId });
    const failure = fails(message);
    if (failure === undefined) {
      handled.push(messageId);
      channel.ack(message);
      return;
    }
    // Through a promise: a handleFailure that throws synchronously must not kill the connection.
    Promise.resolve().then(() => layer.handleFailure(channel, message, new Error(failure), spec)).then(
      (outcome) => outcomes.push(outcome),
      (error: unknown) => errors.push(error),
    );
  });
  /** Rethrows what handleFailure threw (a 🚨 for the starter), so the check reports it. */
  const rethrow = () => {
    if (errors.length > 0) throw errors[0];
  };
  return { tries, handled, outcomes, rethrow };
}

/** `retrying ×2, parked`: what handleFailure returned, try by try, runs folded. */
function outcomesOf(outcomes: FailureOutcome[]): string {
  const runs: { outcome: FailureOutcome; times: number }[] = [];
  for (const outcome of outcomes) {
    const last = runs.at(-1);
    if (last?.outcome === outcome) last.times++;
    else runs.push({ outcome, times: 1 });
  }
  return runs.length === 0 ? 'none' : runs.map((r) => (r.times === 1 ? r.outcome : `${r.outcome} ×${r.times}`)).join(', ');
}

function headersOf(message: ConsumeMessage): Record<string, unknown> {
  return message.properties.headers ?? {};
}

/** x-death in a line: `inventory.queue rejected ×2, inventory.queue.retry expired ×2`. */
function deathsOf(message: Pick<ConsumeMessage, 'properties'>): string {
  const deaths = message.properties.headers?.['x-death'] ?? [];
  return deaths.length === 0 ? 'no x-death header' : deaths.map((d) => `${d.queue} ${d.reason} ×${d.count}`).join(', ');
}

export const checks = defineChecks('deadLetters', [
  {
    id: '06.queue-arguments',
    name: 'queueArguments: a rejected message comes back from its retry queue, and an unread notification expires into dead-letter.queue',
    hint: "Retry queues dead-letter to retry.exchange keyed by the queue's name; queues with deadLetterTo use its exchange ('' included) and routing key; messageTtlMs becomes x-message-ttl.",
    timeoutMs: 7000,
    async run({ layer, layers, connect, settings }) {
      const topology = buildTopology({ ...settings, notificationTtlMs: SHORT_TTL_MS });
      const connection = await connect();
      const channel = await connection.createConfirmChannel();
      const email = queueSpec(topology, QUEUES.notificationEmail);
      const args = JSON.stringify(layer.queueArguments(email));
      await declare(channel, topology, layers, [...retryLoop(QUEUES.inventory), QUEUES.notificationEmail, QUEUES.notificationSms]);
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
      const back = await inventory.next(`the rejected message back in ${QUEUES.inventory} after the ${settings.retryDelayMs} ms retry delay`, () =>
        `it did not come back; ${QUEUES.inventory} has ${JSON.stringify(layer.queueArguments(queueSpec(topology, QUEUES.inventory)))}, ` +
        `${retryQueueName(QUEUES.inventory)} has ${JSON.stringify(layer.queueArguments(queueSpec(topology, retryQueueName(QUEUES.inventory))))}`,
      );
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
        () => `${parked.length} arrived; notification.email.queue was declared with ${args}`,
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
    hint: "Sum `count` over the x-death entries whose queue is the one asked about and whose reason is 'rejected'; the retry queue's 'expired' entries are the same tries again.",
    async run({ layer, reference, connect, settings }) {
      const connection = await connect();
      const channel = await connection.createConfirmChannel();
      await declare(channel, buildTopology({ ...settings, retryDelayMs: FAST_RETRY_MS }), reference, [...retryLoop(QUEUES.order), ...retryLoop(QUEUES.inventory)]);
      const order = await inbox(connection, QUEUES.order);
      const inventory = await inbox(connection, QUEUES.inventory);
      const seenX = (m: ConsumeMessage) => `x-death: ${deathsOf(m)}`;

      // First a rejection from another queue: it must not count for inventory.queue.
      await sendTo(channel, QUEUES.order, paymentFailed('order-x-death'));
      const fresh = await order.next('the message in order.queue', () => 'order.queue stayed empty');
      const fromFresh = layer.attemptsSoFar(fresh, QUEUES.order);
      expectThat(fromFresh === 0, 'attemptsSoFar(a message never rejected, "order.queue") = 0', `${fromFresh}, ${seenX(fresh)}`);
      order.channel.nack(fresh, false, false);
      const retried = await order.next('the message back in order.queue', () => 'it did not come back');
      const fromOrder = layer.attemptsSoFar(retried, QUEUES.order);
      expectThat(fromOrder === 1, 'attemptsSoFar(message, "order.queue") = 1 after one rejection there', `${fromOrder}, ${seenX(retried)}`);
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
        );
        inventory.channel.nack(message, false, false);
      }
    },
  },
  {
    id: '06.retry-then-park',
    name: `a message that keeps failing is tried maxAttempts (${CHECK_SETTINGS.maxAttempts}) times, then parked in dead-letter.queue with x-failure-reason, x-original-queue and x-attempts`,
    hint: 'attempts = attemptsSoFar(message, spec.name) + 1; nack(message, false, false) while attempts < maxAttempts; at maxAttempts publish a copy to dead-letter.exchange with the original body, properties and headers plus the PARK_HEADERS.',
    async run({ layer, reference, connect, settings }) {
      const connection = await connect();
      const topology = buildTopology({ ...settings, retryDelayMs: FAST_RETRY_MS });
      const setup = await connection.createConfirmChannel();
      await declare(setup, topology, reference, retryLoop(QUEUES.inventory));
      const parked = await watchDeadLetterQueue(connection);
      const worker = await consumeWithFailures(connection, layer, queueSpec(topology, QUEUES.inventory), () => 'stock database unavailable');
      const event = paymentFailed('order-retry-then-park');
      await sendTo(setup, QUEUES.inventory, event);

      const copy = await waitFor(
        () => {
          worker.rethrow();
          const found = parked.find((m) => m.properties.messageId === event.messageId);
          return found && worker.outcomes.length === worker.tries.length ? found : undefined;
        },
        `the message parked in dead-letter.queue after ${settings.maxAttempts} tries`,
        () => `after ${worker.tries.length} tries it was not parked (outcomes: ${outcomesOf(worker.outcomes)})`,
      );
      const outcomes = outcomesOf(worker.outcomes);
      expectThat(worker.tries.length === settings.maxAttempts, `${settings.maxAttempts} tries, then parked`, `${worker.tries.length} tries (outcomes: ${outcomes})`);
      const wanted = outcomesOf([...Array.from({ length: settings.maxAttempts - 1 }, (): FailureOutcome => 'retrying'), 'parked']);
      expectThat(outcomes === wanted, `handleFailure to return ${wanted}`, outcomes);

      const headers = headersOf(copy);
      const reason = headers[PARK_HEADERS.reason];
      expectThat(typeof reason === 'string' && reason.includes('stock database unavailable'), 'x-failure-reason with the last error ("stock database unavailable")', `x-failure-reason = ${JSON.stringify(reason)}`);
      expectThat(headers[PARK_HEADERS.queue] === QUEUES.inventory, `x-original-queue = "${QUEUES.inventory}"`, `x-original-queue = ${JSON.stringify(headers[PARK_HEADERS.queue])}`);
      expectThat(headers[PARK_HEADERS.attempts] === settings.maxAttempts, `x-attempts = ${settings.maxAttempts}`, `x-attempts = ${JSON.stringify(headers[PARK_HEADERS.attempts])}`);
      expectThat(copy.content.equals(codec.encode(event).content), 'the parked copy to keep the original body', `body ${copy.content.toString('utf8').slice(0, 120)}`);
    },
  },
  {
    id: '06.retry-delay',
    name: `a failed message waits the retry delay (${CHECK_SETTINGS.retryDelayMs} ms) before its next try`,
    hint: "Don't requeue (nack(message, false, true) comes straight back): nack with requeue=false, so the broker dead-letters it into <queue>.retry, whose TTL is the delay.",
    async run({ layer, reference, connect, topology, settings }) {
      const connection = await connect();
      const setup = await connection.createConfirmChannel();
      await declare(setup, topology, reference, retryLoop(QUEUES.inventory));
      const spec = queueSpec(topology, QUEUES.inventory);
      const worker = await consumeWithFailures(connection, layer, spec, () => 'payment service is down');
      await sendTo(setup, QUEUES.inventory, paymentFailed('order-retry-delay'));

      await waitFor(
        () => {
          worker.rethrow();
          if (worker.outcomes[0] === 'parked') throw new CheckFailure('a retry after the first failure', 'it was parked at once');
          return worker.tries.length >= 2 ? true : undefined;
        },
        'a second try after the first failure',
        () => `only ${worker.tries.length} try (outcome: ${worker.outcomes[0] ?? 'never settled'})`,
      );
      const [first, second] = worker.tries as [Try, Try];
      const gap = second.at - first.at;
      expectThat(gap >= settings.retryDelayMs - 15, `the second try at least ${settings.retryDelayMs} ms after the first`, `it came ${gap} ms later`);
    },
  },
  {
    id: '06.poison',
    name: 'a poison message does not hold up the messages behind it',
    hint: 'A nack with requeue=true puts the message back at the head of the queue, to fail again at once, forever. Send it to the retry queue instead.',
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

      await waitFor(
        () => {
          worker.rethrow();
          return worker.handled.includes(healthy.messageId) ? true : undefined;
        },
        'the healthy message behind the poison one to be handled',
        () => {
          const poisonTries = worker.tries.filter((t) => t.messageId === poison.messageId).length;
          return `it never was; the poison message was tried ${poisonTries} time(s)${worker.outcomes.length < poisonTries ? ' and its last failure was never settled (acked or nacked)' : ''}`;
        },
        2000,
      );
      const before = worker.tries.findIndex((t) => t.messageId === healthy.messageId);
      expectThat(before <= 1, 'the healthy message handled right after the first failure of the poison one', `it came after ${before} tries of the poison message`);
    },
  },
  {
    id: '06.park-at-once',
    name: 'a failed notification is parked at once, with its reason, and not retried',
    hint: "Queues whose failure policy is 'park' (not 'retry') go straight to park(...) with the reason `handler failed: <error>`.",
    async run({ layer, reference, connect, topology }) {
      const connection = await connect();
      const setup = await connection.createConfirmChannel();
      await declare(setup, topology, reference, [QUEUES.notificationEmail, QUEUES.deadLetter]);
      const parked = await watchDeadLetterQueue(connection);
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
      );
      expectThat(worker.tries.length === 1 && worker.outcomes[0] === 'parked', 'one try, outcome parked', `${worker.tries.length} tries, outcomes: ${outcomesOf(worker.outcomes)}`);
      expectThat(headers[PARK_HEADERS.attempts] === 1, 'x-attempts = 1', `x-attempts = ${JSON.stringify(headers[PARK_HEADERS.attempts])}`);
    },
  },
  {
    id: '06.park-confirmed',
    name: 'a message whose dead-letter copy the broker refuses stays in its queue',
    hint: 'Ack the original only after waitForConfirms() resolved; when it rejects, nack(message, false, true) and rethrow.',
    async run({ layer, connect, topology }) {
      const connection = await connect();
      const setup = await connection.createConfirmChannel();
      // A dead-letter queue that refuses every message: the broker nacks the parked copy.
      await setup.assertExchange(EXCHANGES.deadLetter, 'fanout', { durable: true });
      await setup.assertQueue(QUEUES.deadLetter, { durable: true, arguments: { 'x-max-length': 0, 'x-overflow': 'reject-publish' } });
      await setup.bindQueue(QUEUES.deadLetter, EXCHANGES.deadLetter, '');
      const email = queueSpec(topology, QUEUES.notificationEmail);
      await setup.assertQueue(email.name, { durable: true });
      await sendTo(setup, email.name, sampleOrderCreated('order-unparkable'));

      const worker = await connection.createConfirmChannel();
      worker.on('error', () => {});
      await worker.prefetch(1);
      let parkCalled = false;
      let settled: string | undefined;
      let thrown: unknown;
      await worker.consume(email.name, (message) => {
        if (!message || parkCalled) return; // a redelivery after a nack stays unacked until the channel closes
        parkCalled = true;
        Promise.resolve().then(() => layer.park(worker, message, 'testing a refused park', email)).then(
          () => (settled = 'resolved as if the copy were safe'),
          (error: unknown) => {
            if (error instanceof ExerciseNotWrittenError) thrown = error;
            settled = `rejected with "${describeError(error)}"`;
          },
        );
      });
      await waitFor(
        () => {
          if (thrown) throw thrown;
          return settled;
        },
        'park to resolve or reject once the broker refused the copy',
        () => (parkCalled ? 'it was still waiting after 2 s' : 'the message never reached the consumer'),
        2000,
      );
      await worker.close().catch(() => {}); // whatever is still unacked goes back to the queue
      const { messageCount } = await setup.checkQueue(email.name);
      expectThat(
        messageCount === 1,
        'the message back in its queue after the broker refused (nacked) its dead-letter copy',
        `the queue is empty: it was acked although the copy was refused; park ${settled}`,
      );
    },
  },
]);
