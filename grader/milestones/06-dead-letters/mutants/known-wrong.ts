// Known-wrong dead-letter layers: the reference with one thing done the wrong way, as a learner does it.
import { PARK_HEADERS } from '../../../../shared/layers/06-dead-letters.ts';
import { describeError } from '../../../../shared/log.ts';
import { EXCHANGES } from '../../../../shared/topology/topology.ts';
import { deadLetters as reference } from '../../../../solutions/layers/06-dead-letters.ts';
import type { QueueSpec } from '../../../../shared/topology/types.ts';
import type { Mutant } from '../../../mutant.ts';
import { withPark, withAttempts, withRetry, deaths, copyOptions, parkWith, attemptsOf, publishCopy, seen, later } from './steps.ts';

/** The reference layer with its queueArguments' result changed in place by `edit` (one wrong argument each). */
function withEditedArguments(edit: (args: Record<string, unknown>, spec: QueueSpec) => void): typeof reference {
  return {
    ...reference,
    queueArguments: (spec) => {
      const args = reference.queueArguments(spec);
      edit(args, spec);
      return args;
    },
  };
}

export const knownWrong: Mutant<'deadLetters'>[] = [
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
        if (spec.failure.kind === 'retry')
          Object.assign(args, { 'x-dead-letter-exchange': EXCHANGES.retry, 'x-dead-letter-routing-key': spec.name });
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
      queueArguments: (spec) => ({
        ...reference.queueArguments(spec),
        ...(spec.messageTtlMs === undefined ? {} : { 'x-message-ttl': String(spec.messageTtlMs) }),
      }),
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
    layer: withAttempts((message, spec) =>
      deaths(message)
        .filter((death) => death.queue.startsWith(spec.name))
        .reduce((sum, death) => sum + death.count, 0),
    ),
  },
  {
    name: 'attemptsSoFar counts the matching x-death entries instead of adding up their count: the count stops at 1',
    breaks: ['06.attempts-so-far', '06.retry-then-park'],
    layer: withAttempts(
      (message, spec) => deaths(message).filter((death) => death.queue === spec.name && death.reason === 'rejected').length,
    ),
  },

  // handleFailure
  {
    name: 'nack with requeue=true: the message comes straight back, without delay, and x-death never counts',
    breaks: ['06.retry-then-park', '06.retry-delay'],
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
    breaks: ['06.retry-delay', '06.retry-then-park'],
    layer: withRetry(async (channel, message, error, spec) => {
      if (spec.failure.kind === 'retry' && attemptsOf(message, spec) < spec.failure.maxAttempts) return 'retrying';
      return reference.handleFailure(channel, message, error, spec);
    }),
  },
  {
    name: 'handleFailure does not count this delivery: attempts = attemptsSoFar, so the message is tried once too often',
    breaks: ['06.retry-then-park'],
    layer: withRetry(async (channel, message, error, spec) => {
      if (spec.failure.kind === 'retry' && reference.attemptsSoFar(message, spec) < spec.failure.maxAttempts) {
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
      if (spec.failure.kind === 'retry' && attempts >= spec.failure.maxAttempts)
        await reference.park(channel, message, `failed ${attempts} times, last error: ${describeError(error)}`, spec);
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
    layer: withPark((channel, message, reason, spec) =>
      parkWith(channel, message, spec, { ...copyOptions(message, reason, spec, attemptsOf(message, spec)), persistent: false }),
    ),
  },
  {
    name: "park's headers are the park headers alone: the original's headers (x-schema-version, x-death, a trace id) are lost",
    breaks: ['06.parked-copy'],
    layer: withPark((channel, message, reason, spec) => {
      const options = copyOptions(message, reason, spec, attemptsOf(message, spec));
      const headers = Object.fromEntries(
        Object.entries(options.headers ?? {}).filter(([key]) => (Object.values(PARK_HEADERS) as string[]).includes(key)),
      );
      return parkWith(channel, message, spec, { ...options, headers });
    }),
  },
  {
    name: "park spreads all of the original's properties into the copy, its expiration too: a parked RPC request leaves dead-letter.queue unread once its time to live is up",
    breaks: ['06.parked-copy'],
    layer: withPark((channel, message, reason, spec) => {
      const { headers: _headers, ...properties } = message.properties;
      return parkWith(channel, message, spec, { ...properties, ...copyOptions(message, reason, spec, attemptsOf(message, spec)) });
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
      const headers = {
        ...options.headers,
        [PARK_HEADERS.exchange]: message.properties.headers?.['x-first-death-exchange'],
        [PARK_HEADERS.routingKey]: spec.name,
      };
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

  // The broker's delayed retry (RabbitMQ 4.3+, quorum queues): on an older broker these checks say they could not check.
  {
    name: 'queueArguments ignores spec.failure.waitsIn: on 4.3 a quorum queue still dead-letters to retry.exchange, so a reject with requeue comes back at once, up to the default limit of 20',
    breaks: [],
    breaksWithDelayedRetry: ['06.delayed-retry'],
    layer: {
      ...reference,
      queueArguments: (spec) =>
        spec.failure.kind === 'retry' && spec.failure.waitsIn === 'queue'
          ? reference.queueArguments({ ...spec, failure: { ...spec.failure, waitsIn: 'retry-queue' } })
          : reference.queueArguments(spec),
    },
  },
  {
    name: 'queueArguments sets x-delivery-limit to maxAttempts: the limit counts failures, so the message is delivered once too often',
    breaks: [],
    breaksWithDelayedRetry: ['06.delayed-retry'],
    layer: {
      ...reference,
      queueArguments: (spec) => ({
        ...reference.queueArguments(spec),
        ...(spec.failure.kind === 'retry' && spec.failure.waitsIn === 'queue' ? { 'x-delivery-limit': spec.failure.maxAttempts } : {}),
      }),
    },
  },
  {
    name: "queueArguments picks x-delayed-retry-type 'returned': a reject (a failed delivery) is not held, only a nack would be",
    breaks: [],
    breaksWithDelayedRetry: ['06.delayed-retry'],
    layer: withEditedArguments((args) => {
      if ('x-delayed-retry-type' in args) args['x-delayed-retry-type'] = 'returned';
    }),
  },
  {
    name: 'queueArguments writes x-delayed-retry-min as a string: the broker takes it, and holds nothing',
    breaks: [],
    breaksWithDelayedRetry: ['06.delayed-retry'],
    layer: withEditedArguments((args) => {
      for (const key of ['x-delayed-retry-min', 'x-delayed-retry-max']) if (key in args) args[key] = String(args[key]);
    }),
  },
  {
    name: 'queueArguments holds a failed message twice the retry delay (x-delayed-retry-min = 2 × delayMs): slow, never too soon',
    breaks: [],
    breaksWithDelayedRetry: ['06.delayed-retry'],
    layer: withEditedArguments((args, spec) => {
      if (spec.failure.kind === 'retry' && 'x-delayed-retry-min' in args) {
        args['x-delayed-retry-min'] = spec.failure.delayMs * 2;
        args['x-delayed-retry-max'] = spec.failure.delayMs * 2 * Math.max(1, spec.failure.maxAttempts - 1);
      }
    }),
  },
  {
    name: 'handleFailure ignores spec.failure.waitsIn: on 4.3 it still nacks without requeue, and the broker dead-letters the message after one try',
    breaks: [],
    breaksWithDelayedRetry: ['06.delayed-retry'],
    layer: withRetry(async (channel, message, error, spec) => {
      const attempts = attemptsOf(message, spec);
      if (spec.failure.kind === 'retry' && attempts < spec.failure.maxAttempts) {
        channel.nack(message, false, false);
        return 'retrying';
      }
      await reference.park(channel, message, `failed ${attempts} times, last error: ${describeError(error)}`, spec);
      return 'parked';
    }),
  },
  {
    name: 'attemptsSoFar counts from x-death on the 4.3 path too: nothing is dead-lettered there, so it says 0 until the broker dead-letters the message at its limit',
    breaks: [],
    breaksWithDelayedRetry: ['06.delayed-retry'],
    layer: withAttempts((message, spec) =>
      deaths(message)
        .filter((death) => death.queue === spec.name && death.reason === 'rejected')
        .reduce((sum, death) => sum + death.count, 0),
    ),
  },
  {
    name: 'attemptsSoFar reads x-acquired-count on the 4.3 path: it counts every time the message was handed out, a nack with requeue included, not only the failures',
    breaks: [],
    breaksWithDelayedRetry: ['06.delayed-retry'],
    layer: withAttempts((message, spec) =>
      spec.failure.kind === 'retry' && spec.failure.waitsIn === 'queue'
        ? Number(message.properties.headers?.['x-acquired-count'] ?? 0)
        : reference.attemptsSoFar(message, spec),
    ),
  },
  {
    name: 'handleFailure retries with nack(message, false, true) on the 4.3 path: a nack does not count as a failed delivery, so the same try comes back at once, for ever',
    breaks: [],
    breaksWithDelayedRetry: ['06.delayed-retry'],
    layer: withRetry(async (channel, message, error, spec) => {
      if (spec.failure.kind !== 'retry' || spec.failure.waitsIn !== 'queue') return reference.handleFailure(channel, message, error, spec);
      const attempts = attemptsOf(message, spec);
      if (attempts < spec.failure.maxAttempts) {
        channel.nack(message, false, true);
        return 'retrying';
      }
      await reference.park(channel, message, `failed ${attempts} times, last error: ${describeError(error)}`, spec);
      return 'parked';
    }),
  },
  {
    name: 'park gives the original back with reject(message, true) when the copy is refused: on the 4.3 path that counts as a failure, so on the last try the broker dead-letters it at its delivery limit into the dead-letter queue that refused the copy, and it is lost',
    breaks: [],
    breaksWithDelayedRetry: ['06.delayed-retry'],
    layer: withPark(async (channel, message, reason, spec) => {
      publishCopy(channel, message, reason, spec);
      try {
        await channel.waitForConfirms();
      } catch (error) {
        channel.reject(message, true);
        throw error;
      }
      channel.ack(message);
    }),
  },
];
