// Known-valid ack layers, each whole as a learner writes it: other bookkeeping of the deliveries in
// hand, another shape of stop(), processOnce in another order. Each must pass every check.
import type { ConsumeMessage } from 'amqplib';
import type { ConsumerHandle } from '../../../../shared/layers/05-acks-prefetch.ts';
import type { Alternative } from '../../../mutant.ts';

/** Settles unless the channel has closed meanwhile (any error of a settle is that). */
const quietly = (settle: () => void) => {
  try {
    settle();
  } catch {
    // the channel closed: the broker requeues the message itself
  }
};

export const alternatives: Alternative<'acks'>[] = [
  {
    // In-flight deliveries in a Map by delivery tag; processOnce records the id before the work.
    name: 'a Map of deliveries by tag, stop() with allSettled; processOnce records before it works',
    layer: {
      async consume(channel, queue, handler, { prefetch, onFailure, onCancelled }) {
        await channel.prefetch(prefetch);
        const working = new Map<number, Promise<void>>();
        const { consumerTag } = await channel.consume(queue, (message) => {
          if (!message) {
            onCancelled?.();
            return;
          }
          const tag = message.fields.deliveryTag;
          working.set(
            tag,
            (async () => {
              let failure: { error: unknown } | undefined;
              try {
                await handler(message);
              } catch (error) {
                failure = { error };
              }
              if (failure)
                await onFailure(channel, message, failure.error).catch((error: unknown) => console.error('onFailure failed', error));
              else quietly(() => channel.ack(message));
              working.delete(tag);
            })(),
          );
        });
        return {
          consumerTag,
          inFlight: () => working.size,
          stop: async () => {
            try {
              await channel.cancel(consumerTag);
            } catch {
              // nothing to cancel on a closed channel
            }
            await Promise.allSettled([...working.values()]);
          },
        };
      },
      processOnce(store, messageId, apply) {
        return store.transaction(() => {
          if (store.has(messageId)) return false;
          store.record(messageId); // rolled back with the work if apply throws
          apply();
          return true;
        });
      },
    },
  },
  {
    // A counter and the stop() callers waiting for it to reach zero; processOnce looks first outside (a fast path), then again inside.
    name: 'a counter with waiters for idle; processOnce with a fast path outside and the real check inside',
    layer: {
      async consume(channel, queue, handler, { prefetch, onFailure, onCancelled }) {
        await channel.prefetch(prefetch, false);
        let active = 0;
        let idle: (() => void)[] = [];
        const finished = () => {
          active--;
          if (active === 0) {
            idle.forEach((resolve) => resolve());
            idle = [];
          }
        };
        const { consumerTag } = await channel.consume(
          queue,
          (message: ConsumeMessage | null) => {
            if (message === null) return void onCancelled?.();
            active++;
            handler(message)
              .then(
                () => quietly(() => channel.ack(message)),
                (error: unknown) => onFailure(channel, message, error),
              )
              .catch(() => {})
              .finally(finished);
          },
          { noAck: false },
        );
        const handle: ConsumerHandle = {
          consumerTag,
          inFlight: () => active,
          async stop() {
            await channel.cancel(consumerTag).then(
              () => undefined,
              () => undefined,
            );
            if (active > 0) await new Promise<void>((resolve) => idle.push(resolve));
          },
        };
        return handle;
      },
      processOnce(store, messageId, apply) {
        if (store.has(messageId)) return false; // cheap; the answer that counts is the one inside
        return store.transaction(() => {
          if (store.has(messageId)) return false;
          apply();
          store.record(messageId);
          return true;
        });
      },
    },
  },
  {
    // A Set of message objects, stop() that polls; processOnce with one return at the end.
    name: 'a Set of messages being handled, stop() that polls it empty; processOnce with a single return',
    layer: {
      async consume(channel, queue, handler, { prefetch, onFailure, onCancelled }) {
        await channel.prefetch(prefetch);
        const handling = new Set<ConsumeMessage>();
        // eslint-disable-next-line @typescript-eslint/no-misused-promises -- a learner's async callback: it catches its handler's errors itself
        const { consumerTag } = await channel.consume(queue, async (message) => {
          if (message === null) {
            onCancelled?.();
            return;
          }
          handling.add(message);
          try {
            await handler(message);
            quietly(() => channel.ack(message));
          } catch (error) {
            try {
              await onFailure(channel, message, error);
            } catch {
              // logged by layer 6; the message comes back when the channel closes
            }
          } finally {
            handling.delete(message);
          }
        });
        return {
          consumerTag,
          inFlight: () => handling.size,
          async stop() {
            await channel.cancel(consumerTag).catch(() => {});
            while (handling.size > 0) await new Promise((resolve) => setTimeout(resolve, 5));
          },
        };
      },
      processOnce(store, messageId, apply) {
        return store.transaction(() => {
          const fresh = !store.has(messageId);
          if (fresh) {
            apply();
            store.record(messageId);
          }
          return fresh;
        });
      },
    },
  },
];
