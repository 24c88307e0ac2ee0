// Milestone 6: dead letters and retries. What happens to a message after its handler failed.
// Read README.md in this folder first. Run `npm run milestone -- 6` to watch it work,
// `npm run grade -- 6` to check it.
import type { ConfirmChannel, ConsumeMessage, Message } from 'amqplib';
import { todo } from '../../shared/workshop/exercise.ts';
import { type DeadLetterLayer, type FailureOutcome, PARK_HEADERS } from '../../shared/layers/06-dead-letters.ts';
import { describeError } from '../../shared/log.ts';
import { EXCHANGES } from '../../shared/topology/topology.ts';
import type { QueueSpec } from '../../shared/topology/types.ts';

function queueArguments(spec: QueueSpec): Record<string, unknown> {
  // 🐨 Build the arguments object for this queue (empty when nothing applies):
  //    - spec.failure.kind === 'retry': 'x-dead-letter-exchange': EXCHANGES.retry and
  //      'x-dead-letter-routing-key': spec.name (a rejected message goes to `<queue>.retry`);
  //    - otherwise, when spec.deadLetterTo is set: 'x-dead-letter-exchange': spec.deadLetterTo.exchange
  //      (keep '': it is the default exchange), and 'x-dead-letter-routing-key' only when it has a routingKey;
  //    - spec.messageTtlMs set: 'x-message-ttl': spec.messageTtlMs.
  return todo(import.meta.url, 'queueArguments');
}

function attemptsSoFar(message: Pick<Message, 'properties'>, queue: string): number {
  // 🐨 message.properties.headers?.['x-death'] is a list of { queue, reason, count, ... } (or missing).
  //    Add up `count` over the entries with this `queue` and reason 'rejected'. No header: 0.
  // 💰 The retry queue's own entries (reason 'expired') are the same tries seen a second time: skip them.
  return todo(import.meta.url, 'attemptsSoFar');
}

async function park(channel: ConfirmChannel, message: ConsumeMessage, reason: string, spec: QueueSpec): Promise<void> {
  // 🐨 1. channel.publish(EXCHANGES.deadLetter, spec.name, message.content, options) where options has:
  //       messageId, correlationId, type, timestamp, contentType, appId, priority (from message.properties),
  //       persistent: true, and headers = { ...message.properties.headers, plus
  //         [PARK_HEADERS.reason]: reason,                 [PARK_HEADERS.queue]: spec.name,
  //         [PARK_HEADERS.exchange]: message.fields.exchange, [PARK_HEADERS.routingKey]: message.fields.routingKey,
  //         [PARK_HEADERS.attempts]: attemptsSoFar(message, spec.name) + 1, [PARK_HEADERS.parkedAt]: new Date().toISOString() }
  // 🐨 2. await channel.waitForConfirms(): it resolves once the broker has the copy, and rejects if it refused it.
  //       Only then channel.ack(message). (We publish on the channel directly here, so this milestone does not
  //       depend on your milestone 4; the reference uses layer 4's publishConfirmed instead.)
  // 🐨 3. If waitForConfirms rejects: channel.nack(message, false, true) (back to its queue, never lost), then rethrow.
  return todo(import.meta.url, 'park');
}

async function handleFailure(channel: ConfirmChannel, message: ConsumeMessage, error: unknown, spec: QueueSpec): Promise<FailureOutcome> {
  // 🐨 1. spec.failure.kind is not 'retry' (notifications: 'park'): park at once with the reason
  //       `handler failed: ${describeError(error)}` and return 'parked'.
  // 🐨 2. attempts = attemptsSoFar(message, spec.name) + 1 (counting this one).
  //       Fewer than spec.failure.maxAttempts: channel.nack(message, false, false) and return 'retrying'.
  //       requeue=false is what hands it to the queue's dead-letter exchange, so to `<queue>.retry`.
  // 🐨 3. Otherwise park it with the reason `failed ${attempts} times, last error: ${describeError(error)}`
  //       and return 'parked'.
  return todo(import.meta.url, 'handleFailure');
}

export const deadLetters: DeadLetterLayer = { queueArguments, attemptsSoFar, handleFailure, park };
