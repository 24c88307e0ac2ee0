// Known-wrong dead-letter layers for milestone 6: each is the reference with one classic mistake.
import type { ConfirmChannel, ConsumeMessage, Message } from 'amqplib';
import { type DeadLetterLayer, PARK_HEADERS } from '../../shared/layers/06-dead-letters.ts';
import { describeError } from '../../shared/log.ts';
import { EXCHANGES } from '../../shared/topology/topology.ts';
import type { QueueSpec } from '../../shared/topology/types.ts';
import { durability } from '../../solutions/layers/04-durability.ts';
import { deadLetters as reference } from '../../solutions/layers/06-dead-letters.ts';
import { defineMutants } from './mutant.ts';

/** The reference's handleFailure, with its own attemptsSoFar and park, so a mutant of one reaches the other. */
function handleFailureWith(attemptsSoFar: DeadLetterLayer['attemptsSoFar'], park: DeadLetterLayer['park']): DeadLetterLayer['handleFailure'] {
  return async (channel, message, error, spec) => {
    if (spec.failure.kind !== 'retry') {
      await park(channel, message, `handler failed: ${describeError(error)}`, spec);
      return 'parked';
    }
    const attempts = attemptsSoFar(message, spec.name) + 1;
    if (attempts < spec.failure.maxAttempts) {
      channel.nack(message, false, false);
      return 'retrying';
    }
    await park(channel, message, `failed ${attempts} times, last error: ${describeError(error)}`, spec);
    return 'parked';
  };
}

/** Every x-death entry, whatever its queue or reason. */
function allDeaths(message: Pick<Message, 'properties'>): number {
  return (message.properties.headers?.['x-death'] ?? []).reduce((sum, death) => sum + death.count, 0);
}

/** The reference park with the reason header left out. */
async function parkWithoutReason(channel: ConfirmChannel, message: ConsumeMessage, reason: string, spec: QueueSpec): Promise<void> {
  const { [PARK_HEADERS.reason]: _dropped, ...headers } = { ...message.properties.headers, [PARK_HEADERS.reason]: reason, [PARK_HEADERS.queue]: spec.name, [PARK_HEADERS.attempts]: reference.attemptsSoFar(message, spec.name) + 1 };
  await durability.publishConfirmed(channel, EXCHANGES.deadLetter, spec.name, { content: message.content, options: { messageId: message.properties.messageId, headers } });
  channel.ack(message);
}

/** Acks first, then publishes the copy: if the broker refuses it, the message is gone. */
async function parkAfterAck(channel: ConfirmChannel, message: ConsumeMessage, reason: string, spec: QueueSpec): Promise<void> {
  channel.ack(message);
  const headers = { ...message.properties.headers, [PARK_HEADERS.reason]: reason, [PARK_HEADERS.queue]: spec.name, [PARK_HEADERS.attempts]: reference.attemptsSoFar(message, spec.name) + 1 };
  await durability.publishConfirmed(channel, EXCHANGES.deadLetter, spec.name, { content: message.content, options: { messageId: message.properties.messageId, headers } });
}

export const mutants = defineMutants('deadLetters', [
  {
    name: 'nack with requeue=true: the message comes straight back, without delay, and x-death never counts',
    breaks: ['06.retry-then-park', '06.retry-delay', '06.poison'],
    layer: {
      ...reference,
      handleFailure: async (channel, message, error, spec) => {
        if (spec.failure.kind !== 'retry') return reference.handleFailure(channel, message, error, spec);
        if (reference.attemptsSoFar(message, spec.name) + 1 < spec.failure.maxAttempts) {
          channel.nack(message, false, true);
          return 'retrying';
        }
        return reference.handleFailure(channel, message, error, spec);
      },
    },
  },
  {
    name: 'attemptsSoFar adds up the x-death entries of every queue and reason',
    breaks: ['06.attempts-so-far', '06.retry-then-park'],
    layer: { ...reference, attemptsSoFar: allDeaths, handleFailure: handleFailureWith(allDeaths, reference.park) },
  },
  {
    name: 'park leaves out the x-failure-reason header',
    breaks: ['06.retry-then-park', '06.park-at-once'],
    layer: { ...reference, park: parkWithoutReason, handleFailure: handleFailureWith(reference.attemptsSoFar, parkWithoutReason) },
  },
  {
    name: 'the park policy is ignored: a failed notification is nacked like a retry',
    breaks: ['06.park-at-once'],
    layer: {
      ...reference,
      handleFailure: async (channel, message, error, spec) => {
        if (spec.failure.kind === 'retry') return reference.handleFailure(channel, message, error, spec);
        channel.nack(message, false, false);
        return 'retrying';
      },
    },
  },
  {
    name: 'park acks the original before the broker confirmed the copy',
    breaks: ['06.park-confirmed'],
    layer: { ...reference, park: parkAfterAck, handleFailure: handleFailureWith(reference.attemptsSoFar, parkAfterAck) },
  },
  {
    name: 'queueArguments forgets x-message-ttl: retry queues never send back, notifications never expire',
    breaks: ['06.queue-arguments'],
    layer: {
      ...reference,
      queueArguments: (spec) => {
        const { 'x-message-ttl': _ttl, ...args } = reference.queueArguments(spec);
        return args;
      },
    },
  },
]);
