// What the checks of milestone 6 share: declaring part of the topology, a worker that fails messages
// on purpose and hands them to the graded handleFailure, and the ways to see whether a delivery was
// settled (acked or nacked) exactly once.
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, Message } from 'amqplib';
import { ExerciseNotWrittenError } from '../../../shared/workshop/exercise.ts';
import type { DeadLetterLayer, FailureOutcome } from '../../../shared/layers/06-dead-letters.ts';
import type { Layers } from '../../../shared/layers/index.ts';
import { type DomainEvent, newEvent } from '../../../shared/messages/events.ts';
import { describeError } from '../../../shared/log.ts';
import { EXCHANGES, QUEUES, retryQueueName } from '../../../shared/topology/topology.ts';
import type { QueueSpec, QueueType, Topology } from '../../../shared/topology/types.ts';
import { codec } from '../../../solutions/layers/01-publish-consume.ts';
import { declareTopology } from '../../../solutions/runtime/declare-topology.ts';
import { CheckFailure } from '../../check.ts';
import { waitFor } from '../../checks/support.ts';

export const REQUEUE_HINT =
  'That is a requeue: nack(message, false, true), or nack(message) and reject(message) with their defaults, put the message back at the head of its queue at once, and x-death never counts it. Pass requeue = false, so the broker dead-letters it into <queue>.retry.';
export const PARK_HEADERS_HINT = 'The copy tells its story in the PARK_HEADERS, added to the headers it already had (README § Parking).';
export const SETTLE_HINT =
  'Every delivery is settled exactly once: acked (parked), or nacked (sent to the retry queue). An ack or nack twice closes the channel; none at all holds the message until the channel closes.';

/**
 * Declares the named queues, with the exchanges and bindings that lead to them (one exchange-to-exchange
 * hop included), the way the services do; `layers` decides whose queue arguments are used. A part of
 * the topology rather than all of it keeps each check quick.
 */
export async function declare(
  channel: Channel,
  topology: Topology,
  layers: Layers,
  queues: string[],
  queueType: QueueType = 'classic',
): Promise<void> {
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
    await declareTopology(channel, part, layers, queueType);
  } catch (error) {
    if (error instanceof ExerciseNotWrittenError) throw error;
    const refused = describeError(error);
    throw new CheckFailure(
      'the queues to be declared with your arguments',
      `the broker refused them: ${refused}`,
      /x-message-ttl|x-delayed-retry|x-delivery-limit/.test(refused)
        ? 'Durations and limits are numbers (milliseconds, deliveries), not strings; x-delayed-retry-type is one of its few words.'
        : undefined,
    );
  }
}

/** dead-letter.queue, bound to dead-letter.exchange, refusing every message: the broker nacks a parked copy (and drops what it dead-letters there). */
export async function refusingDeadLetterQueue(setup: Channel): Promise<void> {
  await setup.assertExchange(EXCHANGES.deadLetter, 'fanout', { durable: true });
  await setup.assertQueue(QUEUES.deadLetter, { durable: true, arguments: { 'x-max-length': 0, 'x-overflow': 'reject-publish' } });
  await setup.bindQueue(QUEUES.deadLetter, EXCHANGES.deadLetter, '');
}

/** A queue, its retry queue, and the dead-letter queue. */
export function retryLoop(queue: string): string[] {
  return [queue, retryQueueName(queue), QUEUES.deadLetter];
}

/** Sends an event straight to a queue (through the default exchange) and waits for the confirm. */
export async function sendTo(channel: ConfirmChannel, queue: string, event: DomainEvent): Promise<void> {
  const { content, options } = codec.encode(event);
  channel.sendToQueue(queue, content, { ...options, persistent: true });
  await channel.waitForConfirms();
}

/** Every message that reaches dead-letter.queue from now on. */
export async function watchDeadLetterQueue(connection: ChannelModel): Promise<ConsumeMessage[]> {
  const parked: ConsumeMessage[] = [];
  const channel = await connection.createChannel();
  await channel.consume(QUEUES.deadLetter, (message) => void (message && parked.push(message)), { noAck: true });
  return parked;
}

/** A queue's deliveries as they arrive, for a check that settles each one by hand. */
export async function inbox(connection: ChannelModel, queue: string) {
  const channel = await connection.createConfirmChannel();
  const arrived: ConsumeMessage[] = [];
  await channel.consume(queue, (message) => void (message && arrived.push(message)));
  const next = (expected: string, seen: () => string) => waitFor(() => arrived.shift(), expected, seen, 2000);
  return { channel, next };
}

/** x-death in a line: `inventory.queue rejected ×2, inventory.queue.retry expired ×2`. */
export function deathsOf(message: Pick<Message, 'properties'>): string {
  const deaths = message.properties.headers?.['x-death'] ?? [];
  return deaths.length === 0 ? 'no x-death header' : deaths.map((d) => `${d.queue} ${d.reason} ×${d.count}`).join(', ');
}

/** Whether this delivery came back from `<queue>.retry` (its TTL expired there) rather than being requeued. */
export function cameFromRetryQueue(message: Pick<Message, 'properties'>, queue: string): boolean {
  const deaths = message.properties.headers?.['x-death'] ?? [];
  return deaths.some((d) => d.queue === retryQueueName(queue) && d.reason === 'expired');
}

/** Fails the check when the broker closed the consumer's channel (`closedBy` is what it said). */
export function expectOpen(closedBy: unknown): void {
  if (closedBy === undefined) return;
  const said = describeError(closedBy);
  const settledTwice = /unknown delivery tag/i.test(said);
  throw new CheckFailure(
    "the consumer's channel to stay open",
    `the broker closed it: ${said}${settledTwice ? ' (a delivery acked or nacked a second time)' : ''}`,
    settledTwice ? SETTLE_HINT : undefined,
  );
}

/** A check of park: the queues declared with the reference arguments, and whatever reaches dead-letter.queue. */
export async function parkScene(connection: ChannelModel, topology: Topology, reference: Layers, queues: string[]) {
  const setup = await connection.createConfirmChannel();
  await declare(setup, topology, reference, queues);
  const parked = await watchDeadLetterQueue(connection);
  return { setup, parked };
}

export interface Try {
  at: number;
  messageId: string;
  /** Set by the broker on a requeued delivery; a message back from the retry queue is a new one. */
  redelivered: boolean;
  fromRetryQueue: boolean;
  /** A quorum queue's count of the failed deliveries before this one (x-delivery-count), as the header said. */
  deliveryCount: unknown;
}

/** `retrying ×2, parked`: what handleFailure returned, try by try, runs folded. */
export function outcomesOf(outcomes: FailureOutcome[]): string {
  const runs: { outcome: FailureOutcome; times: number }[] = [];
  for (const outcome of outcomes) {
    const last = runs.at(-1);
    if (last?.outcome === outcome) last.times++;
    else runs.push({ outcome, times: 1 });
  }
  return runs.length === 0 ? 'none' : runs.map((r) => (r.times === 1 ? r.outcome : `${r.outcome} ×${r.times}`)).join(', ');
}

/** How the tries after the first one came back: requeued, or through the retry queue. */
export function describeReturns(tries: Try[]): string {
  const returns = tries.slice(1);
  if (returns.length === 0) return 'no try came back';
  const requeued = returns.filter((t) => t.redelivered).length;
  if (requeued > 0)
    return `${requeued} of the ${returns.length} returns were redelivered straight from the queue (requeued), not back from the retry queue`;
  return `every return came back from the retry queue`;
}

/**
 * After the scenario: the confirms of the worker's channel awaited, a round trip on it (the broker
 * closes it if a delivery was settled twice), then closes it; a delivery nobody settled goes back to
 * its queue, where `setup` sees it.
 */
async function expectAllSettled(channel: ConfirmChannel, queue: string, rethrow: () => void, setup: Channel, what: string): Promise<void> {
  // First every copy published on this channel confirmed, so a settle that follows a confirm has
  // happened whatever the timing of the confirm, and the verdict does not depend on it.
  await channel.waitForConfirms().catch(() => {});
  try {
    await channel.checkQueue(queue);
  } catch (error) {
    await new Promise((resolve) => setImmediate(resolve));
    rethrow();
    throw error;
  }
  rethrow();
  await channel.close().catch(() => {});
  const { messageCount } = await setup.checkQueue(queue);
  if (messageCount > 0) {
    throw new CheckFailure(
      `${what} to be settled (acked or nacked) by the time handleFailure resolved`,
      `once the check closed the consumer's channel, ${messageCount} message(s) went back to ${queue}: neither acked nor nacked. A service with prefetch 1 would stall here`,
      SETTLE_HINT,
    );
  }
}

/**
 * Consumes `spec.name` with prefetch 1, like a service worker. `fails` decides whether a delivery
 * fails; failures go to the graded handleFailure with `handleSpec` (the queue's spec unless a check
 * says otherwise), or to `onFailure` when the check calls park itself. What handleFailure throws, and a channel the broker closes, are kept for the check.
 */
export async function consumeWithFailures(
  connection: ChannelModel,
  layer: DeadLetterLayer,
  spec: QueueSpec,
  fails: (message: ConsumeMessage) => string | undefined,
  handleSpec: QueueSpec = spec,
  onFailure: DeadLetterLayer['handleFailure'] = (channel, message, error, queue) => layer.handleFailure(channel, message, error, queue),
) {
  const channel = await connection.createConfirmChannel();
  let closedBy: unknown;
  channel.on('error', (error: unknown) => (closedBy ??= error)); // the check reports it; it must not crash the grader
  await channel.prefetch(1);
  const tries: Try[] = [];
  const handled: string[] = [];
  const outcomes: FailureOutcome[] = [];
  const errors: unknown[] = [];
  await channel.consume(spec.name, (message) => {
    if (!message) return;
    const messageId = String(message.properties.messageId);
    tries.push({
      at: Date.now(),
      messageId,
      redelivered: message.fields.redelivered,
      fromRetryQueue: cameFromRetryQueue(message, spec.name),
      deliveryCount: message.properties.headers?.['x-delivery-count'],
    });
    const failure = fails(message);
    if (failure === undefined) {
      handled.push(messageId);
      channel.ack(message);
      return;
    }
    // Through a promise: a handleFailure that throws synchronously must not kill the connection.
    Promise.resolve()
      .then(() => onFailure(channel, message, new Error(failure), handleSpec))
      .then(
        (outcome) => outcomes.push(outcome),
        (error: unknown) => errors.push(error),
      );
  });

  /** Throws what went wrong so far: the broker closing the channel (a delivery settled twice), or what handleFailure threw. */
  const rethrow = () => {
    expectOpen(closedBy);
    if (errors.length > 0) throw errors[0];
  };

  /** After the scenario: see expectAllSettled. */
  const expectSettled = (setup: Channel, what: string) => expectAllSettled(channel, spec.name, rethrow, setup, what);

  return { channel, tries, handled, outcomes, rethrow, expectAllSettled: expectSettled };
}

/** A worker consumeWithFailures started. */
export type FailingWorker = Awaited<ReturnType<typeof consumeWithFailures>>;

/** Where the delay itself is not under test, a short one keeps grading fast. */
export const FAST_RETRY_MS = 20;

export function paymentFailed(orderId: string, reason = 'card declined'): DomainEvent {
  return newEvent('payment.failed', { orderId, source: 'payment', payload: { reason, amount: 700 } });
}

export function headersOf(message: ConsumeMessage): Record<string, unknown> {
  return message.properties.headers ?? {};
}

/** `= "value"`, or `missing`: a header as the check saw it. */
export function headerAsSeen(headers: Record<string, unknown>, header: string): string {
  return header in headers ? `= ${JSON.stringify(headers[header])}` : 'missing';
}
