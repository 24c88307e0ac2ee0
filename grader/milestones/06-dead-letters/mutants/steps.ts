// Milestone 6's known-wrong and known-valid layers are built from these: the reference's parts,
// so a variant replaces one of them, and the pieces a learner's own park is written with.
import type { ConfirmChannel, ConsumeMessage, Message, Options } from 'amqplib';
import { type DeadLetterLayer, PARK_HEADERS } from '../../../../shared/layers/06-dead-letters.ts';
import { describeError } from '../../../../shared/log.ts';
import { EXCHANGES } from '../../../../shared/topology/topology.ts';
import type { QueueSpec } from '../../../../shared/topology/types.ts';
import { deadLetters as reference } from '../../../../solutions/layers/06-dead-letters.ts';

export type Park = DeadLetterLayer['park'];
export type HandleFailure = DeadLetterLayer['handleFailure'];

/** The reference's handleFailure, with its own attemptsSoFar and park, so a mutant of one reaches the other. */
export function handleFailureWith(attemptsSoFar: DeadLetterLayer['attemptsSoFar'], park: Park): HandleFailure {
  return async (channel, message, error, spec) => {
    if (spec.failure.kind !== 'retry') {
      await park(channel, message, `handler failed: ${describeError(error)}`, spec);
      return 'parked';
    }
    const attempts = attemptsSoFar(message, spec) + 1;
    if (attempts < spec.failure.maxAttempts) {
      if (spec.failure.waitsIn === 'queue') channel.reject(message, true);
      else channel.nack(message, false, false);
      return 'retrying';
    }
    await park(channel, message, `failed ${attempts} times, last error: ${describeError(error)}`, spec);
    return 'parked';
  };
}

/** A layer whose park is `park`, reached from handleFailure too. */
export function withPark(park: Park): DeadLetterLayer {
  return { ...reference, park, handleFailure: handleFailureWith(reference.attemptsSoFar, park) };
}

/** A layer whose attemptsSoFar is `attemptsSoFar`, used by handleFailure and park too. */
export function withAttempts(attemptsSoFar: DeadLetterLayer['attemptsSoFar']): DeadLetterLayer {
  const park: Park = (channel, message, reason, spec) =>
    parkWith(channel, message, spec, copyOptions(message, reason, spec, attemptsSoFar(message, spec) + 1));
  return { ...reference, attemptsSoFar, park, handleFailure: handleFailureWith(attemptsSoFar, park) };
}

/** A layer whose handleFailure, for the retry policy, is `retry`; the park policy as the reference. */
export function withRetry(retry: HandleFailure): DeadLetterLayer {
  return {
    ...reference,
    handleFailure: (channel, message, error, spec) =>
      spec.failure.kind === 'retry' ? retry(channel, message, error, spec) : reference.handleFailure(channel, message, error, spec),
  };
}

/** The deaths of x-death, or none. */
export function deaths(message: Pick<Message, 'properties'>) {
  return message.properties.headers?.['x-death'] ?? [];
}

/** The publish options of a parked copy, as a careful learner writes them by hand. */
export function copyOptions(message: ConsumeMessage, reason: string, spec: QueueSpec, attempts: number): Options.Publish {
  const { messageId, correlationId, type, timestamp, contentType, appId, priority } = message.properties;
  const headers = {
    ...message.properties.headers,
    [PARK_HEADERS.reason]: reason,
    [PARK_HEADERS.queue]: spec.name,
    [PARK_HEADERS.exchange]: message.fields.exchange,
    [PARK_HEADERS.routingKey]: message.fields.routingKey,
    [PARK_HEADERS.attempts]: attempts,
    [PARK_HEADERS.parkedAt]: new Date().toISOString(),
  };
  return { messageId, correlationId, type, timestamp, contentType, appId, priority, headers, persistent: true };
}

/** Publishes the copy on the channel, waits for the broker's confirm, then acks; on a refusal nacks it back and rethrows. */
export async function parkWith(channel: ConfirmChannel, message: ConsumeMessage, spec: QueueSpec, options: Options.Publish): Promise<void> {
  channel.publish(EXCHANGES.deadLetter, spec.name, message.content, options);
  try {
    await channel.waitForConfirms();
  } catch (error) {
    channel.nack(message, false, true);
    throw error;
  }
  channel.ack(message);
}

/** The attempts the reference would write in x-attempts. */
export const attemptsOf = (message: ConsumeMessage, spec: QueueSpec) => reference.attemptsSoFar(message, spec) + 1;

/** Publishes the reference's copy, without waiting for anything. */
export function publishCopy(channel: ConfirmChannel, message: ConsumeMessage, reason: string, spec: QueueSpec): void {
  channel.publish(EXCHANGES.deadLetter, spec.name, message.content, copyOptions(message, reason, spec, attemptsOf(message, spec)));
}

/** An in-memory count per message id, as if no x-death existed. */
export const seen = new Map<string, number>();

/** Timers a mutant leaves behind must not throw into the next grading of the self-proof. */
export function later(delayMs: number, settle: () => void): Promise<void> {
  return new Promise((resolve) => {
    setTimeout(() => {
      try {
        settle();
      } catch {
        // the channel closed meanwhile
      }
      resolve();
    }, delayMs).unref();
  });
}
