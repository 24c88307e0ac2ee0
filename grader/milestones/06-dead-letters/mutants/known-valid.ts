// Known-valid dead-letter layers: another right way to retry, count and park.
import type { Message, Options } from 'amqplib';
import { PARK_HEADERS } from '../../../../shared/layers/06-dead-letters.ts';
import { describeError } from '../../../../shared/log.ts';
import { EXCHANGES } from '../../../../shared/topology/topology.ts';
import type { QueueSpec } from '../../../../shared/topology/types.ts';
import type { Alternative } from '../../../mutant.ts';
import { withPark, withAttempts, deaths, copyOptions, attemptsOf } from './steps.ts';
import type { Park, HandleFailure } from './steps.ts';

export const knownValid: Alternative<'deadLetters'>[] = [
  {
    name:
      "park spreads the original's properties into the copy (but its expiration), publishes on the channel and awaits waitForConfirms (a refused copy's original given back with nack's defaults); attempts with a for loop; reject instead of nack to retry; " +
      "on 4.3 quorum queues delayed retry type 'all', every wait the retry delay (max = min)",
    layer: (() => {
      const inQueue = (spec: QueueSpec) => spec.failure.kind === 'retry' && spec.failure.waitsIn === 'queue';
      function attemptsSoFar(message: Pick<Message, 'properties'>, spec: QueueSpec): number {
        if (inQueue(spec)) return Number(message.properties.headers?.['x-delivery-count'] ?? 0) || 0;
        let total = 0;
        for (const death of deaths(message)) if (death.queue === spec.name && death.reason === 'rejected') total += death.count;
        return total;
      }
      const park: Park = async (channel, message, reason, spec) => {
        const { headers, expiration: _timeToLive, ...properties } = message.properties; // a parked copy does not expire
        const options: Options.Publish = {
          ...properties,
          persistent: true,
          headers: {
            ...headers,
            [PARK_HEADERS.reason]: reason,
            [PARK_HEADERS.queue]: spec.name,
            [PARK_HEADERS.exchange]: message.fields.exchange,
            [PARK_HEADERS.routingKey]: message.fields.routingKey,
            [PARK_HEADERS.attempts]: attemptsSoFar(message, spec) + 1,
            [PARK_HEADERS.parkedAt]: Date.now(), // "the time": a Unix time in ms is as good as an ISO string
          },
        };
        channel.publish(EXCHANGES.deadLetter, '', message.content, options);
        try {
          await channel.waitForConfirms();
        } catch (error) {
          channel.nack(message); // requeue by default, and a nack does not count as a failed delivery
          throw error;
        }
        channel.ack(message);
      };
      const handleFailure: HandleFailure = async (channel, message, error, spec) => {
        const tried = attemptsSoFar(message, spec) + 1;
        const limit = spec.failure.kind === 'retry' ? spec.failure.maxAttempts : 1;
        if (tried >= limit) {
          await park(
            channel,
            message,
            spec.failure.kind === 'retry'
              ? `failed ${tried} times, last error: ${describeError(error)}`
              : `handler failed: ${describeError(error)}`,
            spec,
          );
          return 'parked';
        }
        // Held by the queue (a reject counts the failure), or dead-lettered into the retry queue.
        channel.reject(message, inQueue(spec));
        return 'retrying';
      };
      const queueArguments = (spec: QueueSpec): Record<string, unknown> => {
        if (spec.failure.kind === 'retry' && spec.failure.waitsIn === 'queue') {
          const { delayMs, maxAttempts } = spec.failure;
          return {
            'x-delayed-retry-type': 'all',
            'x-delayed-retry-min': delayMs,
            'x-delayed-retry-max': delayMs,
            'x-delivery-limit': maxAttempts - 1,
            'x-dead-letter-exchange': EXCHANGES.deadLetter,
          };
        }
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
    name: "attemptsSoFar reads only this queue's 'rejected' entry (there is one per queue and reason), or x-delivery-count as it is",
    layer: withAttempts((message, spec) =>
      spec.failure.kind === 'retry' && spec.failure.waitsIn === 'queue'
        ? ((message.properties.headers?.['x-delivery-count'] as number | undefined) ?? 0)
        : (deaths(message).find((death) => death.queue === spec.name && death.reason === 'rejected')?.count ?? 0),
    ),
  },
];
