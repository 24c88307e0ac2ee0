// Known-wrong dead-letter layers for milestone 6, each a mistake a learner makes (the reference with
// one thing done the wrong way), and known-valid ones that do it another right way.
import type { ConfirmChannel, ConsumeMessage, Message, Options } from 'amqplib';
import { type DeadLetterLayer, PARK_HEADERS } from '../../../shared/layers/06-dead-letters.ts';
import { describeError } from '../../../shared/log.ts';
import { EXCHANGES } from '../../../shared/topology/topology.ts';
import type { QueueSpec } from '../../../shared/topology/types.ts';
import { deadLetters as reference } from '../../../solutions/layers/06-dead-letters.ts';
import { defineAlternatives, defineMutants } from '../../mutant.ts';

type Park = DeadLetterLayer['park'];
type HandleFailure = DeadLetterLayer['handleFailure'];

/** The reference's handleFailure, with its own attemptsSoFar and park, so a mutant of one reaches the other. */
function handleFailureWith(attemptsSoFar: DeadLetterLayer['attemptsSoFar'], park: Park): HandleFailure {
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

/** A layer whose park is `park`, reached from handleFailure too. */
function withPark(park: Park): DeadLetterLayer {
  return { ...reference, park, handleFailure: handleFailureWith(reference.attemptsSoFar, park) };
}

/** A layer whose attemptsSoFar is `attemptsSoFar`, used by handleFailure and park too. */
function withAttempts(attemptsSoFar: DeadLetterLayer['attemptsSoFar']): DeadLetterLayer {
  const park: Park = (channel, message, reason, spec) => parkWith(channel, message, spec, copyOptions(message, reason, spec, attemptsSoFar(message, spec.name) + 1));
  return { ...reference, attemptsSoFar, park, handleFailure: handleFailureWith(attemptsSoFar, park) };
}

/** A layer whose handleFailure, for the retry policy, is `retry`; the park policy as the reference. */
function withRetry(retry: HandleFailure): DeadLetterLayer {
  return { ...reference, handleFailure: (channel, message, error, spec) => (spec.failure.kind === 'retry' ? retry(channel, message, error, spec) : reference.handleFailure(channel, message, error, spec)) };
}

/** The deaths of x-death, or none. */
function deaths(message: Pick<Message, 'properties'>) {
  return message.properties.headers?.['x-death'] ?? [];
}

/** The publish options of a parked copy, as a careful learner writes them by hand. */
function copyOptions(message: ConsumeMessage, reason: string, spec: QueueSpec, attempts: number): Options.Publish {
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
async function parkWith(channel: ConfirmChannel, message: ConsumeMessage, spec: QueueSpec, options: Options.Publish): Promise<void> {
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
const attemptsOf = (message: ConsumeMessage, spec: QueueSpec) => reference.attemptsSoFar(message, spec.name) + 1;

/** Publishes the reference's copy, without waiting for anything. */
function publishCopy(channel: ConfirmChannel, message: ConsumeMessage, reason: string, spec: QueueSpec): void {
  channel.publish(EXCHANGES.deadLetter, spec.name, message.content, copyOptions(message, reason, spec, attemptsOf(message, spec)));
}

/** An in-memory count per message id, as if no x-death existed. */
const seen = new Map<string, number>();

/** Timers a mutant leaves behind must not throw into the next grading of the self-proof. */
function later(delayMs: number, settle: () => void): Promise<void> {
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

export const mutants = defineMutants('deadLetters', [
  // queueArguments
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
  {
    name: "queueArguments tests `if (spec.deadLetterTo?.exchange)`: the retry queues' '' (the default exchange) is dropped, so nothing comes back",
    breaks: ['06.queue-arguments'],
    layer: {
      ...reference,
      queueArguments: (spec) => {
        const args: Record<string, unknown> = {};
        if (spec.failure.kind === 'retry') Object.assign(args, { 'x-dead-letter-exchange': EXCHANGES.retry, 'x-dead-letter-routing-key': spec.name });
        else if (spec.deadLetterTo?.exchange) {
          args['x-dead-letter-exchange'] = spec.deadLetterTo.exchange;
          if (spec.deadLetterTo.routingKey) args['x-dead-letter-routing-key'] = spec.deadLetterTo.routingKey;
        }
        if (spec.messageTtlMs) args['x-message-ttl'] = spec.messageTtlMs;
        return args;
      },
    },
  },
  {
    name: 'queueArguments writes the TTL as a string, which the broker refuses',
    breaks: ['06.queue-arguments'],
    layer: {
      ...reference,
      queueArguments: (spec) => ({ ...reference.queueArguments(spec), ...(spec.messageTtlMs === undefined ? {} : { 'x-message-ttl': String(spec.messageTtlMs) }) }),
    },
  },
  {
    name: "queueArguments ignores deadLetterTo's routing key: the delivery-delay queue dead-letters under the message's own key",
    breaks: ['06.queue-arguments'],
    layer: {
      ...reference,
      queueArguments: (spec) => {
        const args = reference.queueArguments(spec);
        if (spec.failure.kind !== 'retry') delete args['x-dead-letter-routing-key'];
        return args;
      },
    },
  },

  // attemptsSoFar
  {
    name: 'attemptsSoFar adds up the x-death entries of every queue and reason',
    breaks: ['06.attempts-so-far', '06.retry-then-park'],
    layer: withAttempts((message) => deaths(message).reduce((sum, death) => sum + death.count, 0)),
  },
  {
    name: "attemptsSoFar also counts the retry queue's 'expired' entries (queue names starting with the queue's), so every try counts twice",
    breaks: ['06.attempts-so-far', '06.retry-then-park'],
    layer: withAttempts((message, queue) => deaths(message).filter((death) => death.queue.startsWith(queue)).reduce((sum, death) => sum + death.count, 0)),
  },
  {
    name: 'attemptsSoFar counts the matching x-death entries instead of adding up their count: the count stops at 1',
    breaks: ['06.attempts-so-far', '06.retry-then-park'],
    layer: withAttempts((message, queue) => deaths(message).filter((death) => death.queue === queue && death.reason === 'rejected').length),
  },

  // handleFailure
  {
    name: 'nack with requeue=true: the message comes straight back, without delay, and x-death never counts',
    breaks: ['06.retry-then-park', '06.retry-delay', '06.poison'],
    layer: withRetry(async (channel, message, error, spec) => {
      if (spec.failure.kind === 'retry' && attemptsOf(message, spec) < spec.failure.maxAttempts) {
        channel.nack(message, false, true);
        return 'retrying';
      }
      return reference.handleFailure(channel, message, error, spec);
    }),
  },
  {
    name: 'handleFailure returns retrying without nacking: the message is never settled and the consumer stalls',
    breaks: ['06.retry-delay', '06.poison', '06.retry-then-park'],
    layer: withRetry(async (channel, message, error, spec) => {
      if (spec.failure.kind === 'retry' && attemptsOf(message, spec) < spec.failure.maxAttempts) return 'retrying';
      return reference.handleFailure(channel, message, error, spec);
    }),
  },
  {
    name: 'handleFailure does not count this delivery: attempts = attemptsSoFar, so the message is tried once too often',
    breaks: ['06.retry-then-park'],
    layer: withRetry(async (channel, message, error, spec) => {
      if (spec.failure.kind === 'retry' && reference.attemptsSoFar(message, spec.name) < spec.failure.maxAttempts) {
        channel.nack(message, false, false);
        return 'retrying';
      }
      return reference.handleFailure(channel, message, error, spec);
    }),
  },
  {
    name: 'handleFailure counts attempts in a Map of its own instead of x-death: a crash of the consumer forgets them',
    breaks: ['06.retry-then-park'],
    layer: withRetry(async (channel, message, error, spec) => {
      const id = String(message.properties.messageId);
      const attempts = (seen.get(id) ?? 0) + 1;
      seen.set(id, attempts);
      if (spec.failure.kind === 'retry' && attempts < spec.failure.maxAttempts) {
        channel.nack(message, false, false);
        return 'retrying';
      }
      await reference.park(channel, message, `failed ${attempts} times, last error: ${describeError(error)}`, spec);
      return 'parked';
    }),
  },
  {
    name: 'handleFailure parks at maxAttempts and then falls through to the nack (a missing return): the original is settled twice',
    breaks: ['06.retry-then-park'],
    layer: withRetry(async (channel, message, error, spec) => {
      const attempts = attemptsOf(message, spec);
      if (spec.failure.kind === 'retry' && attempts >= spec.failure.maxAttempts) await reference.park(channel, message, `failed ${attempts} times, last error: ${describeError(error)}`, spec);
      channel.nack(message, false, false);
      return attempts >= (spec.failure.kind === 'retry' ? spec.failure.maxAttempts : 1) ? 'parked' : 'retrying';
    }),
  },
  {
    name: 'handleFailure waits the delay itself (setTimeout) before the nack, holding the message in the consumer, and then it waits in the retry queue again',
    breaks: ['06.retry-delay'],
    layer: withRetry(async (channel, message, error, spec) => {
      if (spec.failure.kind === 'retry' && attemptsOf(message, spec) < spec.failure.maxAttempts) {
        await later(spec.failure.delayMs, () => channel.nack(message, false, false));
        return 'retrying';
      }
      return reference.handleFailure(channel, message, error, spec);
    }),
  },
  {
    name: 'handleFailure starts park without awaiting it (a failure only logged) and returns parked at once',
    breaks: ['06.park-confirmed'],
    layer: {
      ...reference,
      handleFailure: async (channel, message, error, spec) => {
        if (spec.failure.kind === 'retry') return reference.handleFailure(channel, message, error, spec);
        reference.park(channel, message, `handler failed: ${describeError(error)}`, spec).catch(() => {});
        return 'parked';
      },
    },
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

  // park: the copy
  {
    name: 'park leaves out the x-failure-reason header',
    breaks: ['06.retry-then-park', '06.park-at-once', '06.parked-copy'],
    layer: withPark((channel, message, reason, spec) => {
      const { [PARK_HEADERS.reason]: _dropped, ...headers } = copyOptions(message, reason, spec, attemptsOf(message, spec)).headers ?? {};
      return parkWith(channel, message, spec, { ...copyOptions(message, reason, spec, attemptsOf(message, spec)), headers });
    }),
  },
  {
    name: 'park publishes the copy without persistent: true',
    breaks: ['06.parked-copy'],
    layer: withPark((channel, message, reason, spec) => parkWith(channel, message, spec, { ...copyOptions(message, reason, spec, attemptsOf(message, spec)), persistent: false })),
  },
  {
    name: "park's headers are the park headers alone: the original's headers (x-schema-version, x-death, a trace id) are lost",
    breaks: ['06.parked-copy'],
    layer: withPark((channel, message, reason, spec) => {
      const options = copyOptions(message, reason, spec, attemptsOf(message, spec));
      const headers = Object.fromEntries(Object.entries(options.headers ?? {}).filter(([key]) => (Object.values(PARK_HEADERS) as string[]).includes(key)));
      return parkWith(channel, message, spec, { ...options, headers });
    }),
  },
  {
    name: "park copies only the messageId: the original's type, correlation id, timestamp, content type, app id and priority are lost",
    breaks: ['06.parked-copy'],
    layer: withPark((channel, message, reason, spec) => {
      const { messageId, headers, persistent } = copyOptions(message, reason, spec, attemptsOf(message, spec));
      return parkWith(channel, message, spec, { messageId, headers, persistent });
    }),
  },
  {
    name: 'park writes where the message was first published (x-first-death-exchange) as x-original-exchange, which a message never dead-lettered does not have',
    breaks: ['06.parked-copy'],
    layer: withPark((channel, message, reason, spec) => {
      const options = copyOptions(message, reason, spec, attemptsOf(message, spec));
      const headers = { ...options.headers, [PARK_HEADERS.exchange]: message.properties.headers?.['x-first-death-exchange'], [PARK_HEADERS.routingKey]: spec.name };
      return parkWith(channel, message, spec, { ...options, headers });
    }),
  },
  {
    name: 'park publishes the copy and never acks the original: the consumer stalls once prefetch is used up',
    breaks: ['06.parked-copy', '06.retry-then-park', '06.park-at-once'],
    layer: withPark(async (channel, message, reason, spec) => {
      publishCopy(channel, message, reason, spec);
      await channel.waitForConfirms();
    }),
  },

  // park: the order of confirm and ack
  {
    name: 'park acks the original before the broker confirmed the copy',
    breaks: ['06.park-confirmed'],
    layer: withPark(async (channel, message, reason, spec) => {
      channel.ack(message);
      publishCopy(channel, message, reason, spec);
      await channel.waitForConfirms();
    }),
  },
  {
    name: 'park catches the refused confirm, logs it, and acks the original anyway',
    breaks: ['06.park-confirmed'],
    layer: withPark(async (channel, message, reason, spec) => {
      publishCopy(channel, message, reason, spec);
      await channel.waitForConfirms().catch(() => {});
      channel.ack(message);
    }),
  },
  {
    name: 'park nacks the original back when the copy is refused, but resolves as if it had parked it',
    breaks: ['06.park-confirmed'],
    layer: withPark(async (channel, message, reason, spec) => {
      publishCopy(channel, message, reason, spec);
      try {
        await channel.waitForConfirms();
        channel.ack(message);
      } catch {
        channel.nack(message, false, true);
      }
    }),
  },
  {
    name: 'park rethrows when the copy is refused and leaves the original unsettled: closing the channel will give it back',
    breaks: ['06.park-confirmed'],
    layer: withPark(async (channel, message, reason, spec) => {
      publishCopy(channel, message, reason, spec);
      await channel.waitForConfirms();
      channel.ack(message);
    }),
  },
  {
    name: 'park nacks the original back only when publish() throws: a refused confirm rejects with the original unsettled',
    breaks: ['06.park-confirmed'],
    layer: withPark(async (channel, message, reason, spec) => {
      try {
        publishCopy(channel, message, reason, spec);
      } catch (error) {
        channel.nack(message, false, true);
        throw error;
      }
      await channel.waitForConfirms();
      channel.ack(message);
    }),
  },
  {
    name: 'park gives the original back with nack(message, false, false) when the copy is refused (requeue false drops it)',
    breaks: ['06.park-confirmed'],
    layer: withPark(async (channel, message, reason, spec) => {
      publishCopy(channel, message, reason, spec);
      try {
        await channel.waitForConfirms();
      } catch (error) {
        channel.nack(message, false, false);
        throw error;
      }
      channel.ack(message);
    }),
  },
  {
    name: 'park nacks the original back when the copy is refused, then acks it too',
    breaks: ['06.park-confirmed'],
    layer: withPark(async (channel, message, reason, spec) => {
      publishCopy(channel, message, reason, spec);
      try {
        await channel.waitForConfirms();
      } catch (error) {
        channel.nack(message, false, true);
        void error; // "logged": the learner meant to look at it later
      }
      channel.ack(message);
    }),
  },
]);

export const alternatives = defineAlternatives('deadLetters', [
  {
    name: "park spreads the original's properties into the copy, publishes on the channel and awaits waitForConfirms; attempts with a for loop; reject instead of nack",
    layer: (() => {
      function attemptsSoFar(message: Pick<Message, 'properties'>, queue: string): number {
        let total = 0;
        for (const death of deaths(message)) if (death.queue === queue && death.reason === 'rejected') total += death.count;
        return total;
      }
      const park: Park = async (channel, message, reason, spec) => {
        const { headers, ...properties } = message.properties;
        const options: Options.Publish = {
          ...properties,
          persistent: true,
          headers: {
            ...headers,
            [PARK_HEADERS.reason]: reason,
            [PARK_HEADERS.queue]: spec.name,
            [PARK_HEADERS.exchange]: message.fields.exchange,
            [PARK_HEADERS.routingKey]: message.fields.routingKey,
            [PARK_HEADERS.attempts]: attemptsSoFar(message, spec.name) + 1,
            [PARK_HEADERS.parkedAt]: new Date().toISOString(),
          },
        };
        channel.publish(EXCHANGES.deadLetter, '', message.content, options);
        try {
          await channel.waitForConfirms();
        } catch (error) {
          channel.reject(message, true);
          throw error;
        }
        channel.ack(message);
      };
      const handleFailure: HandleFailure = async (channel, message, error, spec) => {
        const tried = attemptsSoFar(message, spec.name) + 1;
        const limit = spec.failure.kind === 'retry' ? spec.failure.maxAttempts : 1;
        if (tried >= limit) {
          await park(channel, message, spec.failure.kind === 'retry' ? `failed ${tried} times, last error: ${describeError(error)}` : `handler failed: ${describeError(error)}`, spec);
          return 'parked';
        }
        channel.reject(message, false);
        return 'retrying';
      };
      const queueArguments = (spec: QueueSpec): Record<string, unknown> => {
        const target = spec.failure.kind === 'retry' ? { exchange: EXCHANGES.retry, routingKey: spec.name } : spec.deadLetterTo;
        return {
          ...(target ? { 'x-dead-letter-exchange': target.exchange } : {}),
          ...(target?.routingKey !== undefined ? { 'x-dead-letter-routing-key': target.routingKey } : {}),
          ...(spec.messageTtlMs !== undefined ? { 'x-message-ttl': spec.messageTtlMs } : {}),
        };
      };
      return { queueArguments, attemptsSoFar, park, handleFailure };
    })(),
  },
  {
    name: 'park waits for the confirm through the publish callback, and keeps the copy routed by the original routing key',
    layer: withPark(
      (channel, message, reason, spec) =>
        new Promise<void>((resolve, reject) => {
          const options = copyOptions(message, reason, spec, attemptsOf(message, spec));
          channel.publish(EXCHANGES.deadLetter, message.fields.routingKey, message.content, options, (error: unknown) => {
            if (error) {
              channel.nack(message, false, true);
              reject(error instanceof Error ? error : new Error('the broker refused the parked copy'));
            } else {
              channel.ack(message);
              resolve();
            }
          });
        }),
    ),
  },
  {
    name: "attemptsSoFar reads only this queue's 'rejected' entry (there is one per queue and reason)",
    layer: withAttempts((message, queue) => deaths(message).find((death) => death.queue === queue && death.reason === 'rejected')?.count ?? 0),
  },
]);
