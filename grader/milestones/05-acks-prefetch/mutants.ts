// Milestone 5: known-wrong ack layers (the reference consume or processOnce with one mistake a
// learner makes), and known-valid ones that differ from the reference in bookkeeping or shape.
import { type ConsumeMessage, IllegalOperationError } from 'amqplib';
import type { AckLayer, ConsumerHandle } from '../../../shared/layers/05-acks-prefetch.ts';
import { acks as reference } from '../../../solutions/layers/05-acks-prefetch.ts';
import { defineAlternatives, defineMutants } from '../../mutant.ts';

interface Mistakes {
  /** consume with noAck: true (and so no acks): the broker forgets a message as soon as it sends it. */
  noAck?: boolean;
  ackBeforeHandler?: boolean;
  /** Starts the handler and acks at once, without waiting for it; failures go to onFailure later. */
  ackWithoutAwait?: boolean;
  noPrefetch?: boolean;
  prefetchAfterConsume?: boolean;
  /** Thinks returning from the callback is enough: nothing acks a message that succeeded. */
  neverAck?: boolean;
  /** Acks after the handler, and again in a finally. */
  ackInFinallyToo?: boolean;
  /** Acks after the try/catch, on the failure path too (after onFailure). */
  ackAfterFailureToo?: boolean;
  /** A failed handler's message is acked and onFailure never hears of it. */
  silentAck?: boolean;
  /** A failed handler's message is nacked with amqplib's default requeue: true, and onFailure never hears of it. */
  nackRequeue?: boolean;
  /** onFailure is awaited without a catch: when it throws, the rejection escapes the callback. */
  onFailureUncaught?: boolean;
  /** channel.ack without a catch: on a closed channel the IllegalOperationError escapes. */
  ackUncaught?: boolean;
  /** stop() awaits channel.cancel without a catch: it rejects on a closed channel. */
  cancelUncaught?: boolean;
  stopWithoutWaiting?: boolean;
  /** stop() waits for the deliveries in hand first and cancels after: new ones keep coming meanwhile. */
  stopWaitsThenCancels?: boolean;
  /** stop() waits, and never cancels the consumer. */
  stopNeverCancels?: boolean;
  /** Adds every delivery to the in-flight set and never removes it. */
  inFlightNeverShrinks?: boolean;
  ignoreCancel?: boolean;
  /** Hands a failed message to onFailure without awaiting it: the delivery counts as done at once. */
  onFailureNotAwaited?: boolean;
  /** channel.ack(message, true): acks every earlier delivery too, finished or not. */
  ackAllUpTo?: boolean;
  /** Hands the null of a cancel to the handler like a message. */
  nullToHandler?: boolean;
}

function consumeWith(mistakes: Mistakes): AckLayer['consume'] {
  return async (channel, queue, handler, { prefetch, onFailure, onCancelled }) => {
    if (!mistakes.noPrefetch && !mistakes.prefetchAfterConsume) await channel.prefetch(prefetch);
    const inFlight = new Set<Promise<void>>();
    const ack = (message: ConsumeMessage) => {
      if (mistakes.noAck) return;
      if (mistakes.ackUncaught) return channel.ack(message);
      try {
        channel.ack(message, Boolean(mistakes.ackAllUpTo));
      } catch (error) {
        if (!(error instanceof IllegalOperationError)) throw error;
      }
    };
    const fail = async (message: ConsumeMessage, error: unknown) => {
      if (mistakes.onFailureUncaught) return onFailure(channel, message, error);
      if (mistakes.onFailureNotAwaited) return void onFailure(channel, message, error).catch(() => {});
      await onFailure(channel, message, error).catch(() => {});
    };
    const handle = async (message: ConsumeMessage): Promise<void> => {
      if (mistakes.ackWithoutAwait) {
        void handler(message).catch((error: unknown) => fail(message, error));
        return ack(message);
      }
      if (mistakes.ackBeforeHandler) ack(message);
      let failed = false;
      try {
        await handler(message);
      } catch (error) {
        failed = true;
        if (mistakes.silentAck) return ack(message);
        if (mistakes.nackRequeue) return channel.nack(message);
        await fail(message, error);
      } finally {
        if (mistakes.ackInFinallyToo) ack(message);
      }
      if (mistakes.ackBeforeHandler || mistakes.neverAck) return;
      if (!failed || mistakes.ackAfterFailureToo) ack(message);
    };
    const { consumerTag } = await channel.consume(
      queue,
      (message) => {
        if (message === null && !mistakes.nullToHandler) return mistakes.ignoreCancel ? undefined : onCancelled?.();
        const settled = handle(message as ConsumeMessage).finally(() => {
          if (!mistakes.inFlightNeverShrinks) inFlight.delete(settled);
        });
        inFlight.add(settled);
      },
      { noAck: Boolean(mistakes.noAck) },
    );
    if (mistakes.prefetchAfterConsume) await channel.prefetch(prefetch);
    const cancel = () => (mistakes.cancelUncaught ? channel.cancel(consumerTag) : channel.cancel(consumerTag).catch(() => {}));
    return {
      consumerTag,
      inFlight: () => inFlight.size,
      async stop() {
        if (mistakes.stopWaitsThenCancels) {
          while (inFlight.size > 0) await Promise.all(inFlight);
          await cancel();
          return;
        }
        if (!mistakes.stopNeverCancels) await cancel();
        if (!mistakes.stopWithoutWaiting) await Promise.all(inFlight);
      },
    };
  };
}

const consuming = (mistakes: Mistakes): AckLayer => ({ ...reference, consume: consumeWith(mistakes) });
const processing = (processOnce: AckLayer['processOnce']): AckLayer => ({ ...reference, processOnce });

/** The in-flight count goes down only when a handler succeeds; stop() waits for it to reach 0. */
const countOnlySuccesses: AckLayer['consume'] = async (channel, queue, handler, { prefetch, onFailure, onCancelled }) => {
  await channel.prefetch(prefetch);
  let active = 0;
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- the callback catches its handler's errors itself
  const { consumerTag } = await channel.consume(queue, async (message) => {
    if (message === null) return onCancelled?.();
    active++;
    try {
      await handler(message);
      channel.ack(message);
      active--;
    } catch (error) {
      await onFailure(channel, message, error).catch(() => {});
    }
  });
  return {
    consumerTag,
    inFlight: () => active,
    async stop() {
      await channel.cancel(consumerTag).catch(() => {});
      while (active > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    },
  };
};

/** The in-flight count goes down once the handler settles, before onFailure runs; stop() waits for it to reach 0. */
const countOutBeforeOnFailure: AckLayer['consume'] = async (channel, queue, handler, { prefetch, onFailure, onCancelled }) => {
  await channel.prefetch(prefetch);
  let active = 0;
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- the callback catches its handler's errors itself
  const { consumerTag } = await channel.consume(queue, async (message) => {
    if (message === null) return onCancelled?.();
    active++;
    let failure: { error: unknown } | undefined;
    try {
      await handler(message);
    } catch (error) {
      failure = { error };
    } finally {
      active--;
    }
    if (failure) await onFailure(channel, message, failure.error).catch(() => {});
    else channel.ack(message);
  });
  return {
    consumerTag,
    inFlight: () => active,
    async stop() {
      await channel.cancel(consumerTag).catch(() => {});
      while (active > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    },
  };
};

export const mutants = defineMutants('acks', [
  { name: 'consumes with noAck: true', breaks: ['05.redelivered', '05.prefetch'], layer: consuming({ noAck: true }) },
  { name: 'acks a message before its handler runs', breaks: ['05.redelivered', '05.failure'], layer: consuming({ ackBeforeHandler: true }) },
  {
    name: 'starts the handler and acks at once, without waiting for it',
    breaks: ['05.redelivered', '05.failure', '05.settled-once'],
    layer: consuming({ ackWithoutAwait: true }),
  },
  { name: 'acks with allUpTo: true, so a finished message also acks the earlier ones still in progress', breaks: ['05.redelivered'], layer: consuming({ ackAllUpTo: true }) },
  { name: 'never sets prefetch', breaks: ['05.prefetch'], layer: consuming({ noPrefetch: true }) },
  { name: 'sets prefetch after starting the consumer', breaks: ['05.prefetch'], layer: consuming({ prefetchAfterConsume: true }) },
  {
    name: 'never acks a message whose handler succeeded (returning from the callback is not an ack)',
    breaks: ['05.redelivered', '05.prefetch', '05.settled-once'],
    layer: consuming({ neverAck: true }),
  },
  { name: 'acks after the handler, and again in a finally', breaks: ['05.settled-once', '05.prefetch'], layer: consuming({ ackInFinallyToo: true }) },
  { name: 'acks after the try/catch, so a failed message is acked after onFailure too', breaks: ['05.failure', '05.settled-once'], layer: consuming({ ackAfterFailureToo: true }) },
  { name: 'a failed message is acked silently; onFailure is never called', breaks: ['05.failure', '05.settled-once'], layer: consuming({ silentAck: true }) },
  { name: "a failed message is nacked with amqplib's default requeue instead of going to onFailure", breaks: ['05.failure', '05.settled-once'], layer: consuming({ nackRequeue: true }) },
  { name: "onFailure's own rejection escapes the consumer", breaks: ['05.failure'], layer: consuming({ onFailureUncaught: true }) },
  { name: 'an ack on a closed channel throws out of the consumer', breaks: ['05.redelivered'], layer: consuming({ ackUncaught: true }) },
  { name: 'stop() rejects on a closed channel (channel.cancel not caught)', breaks: ['05.redelivered'], layer: consuming({ cancelUncaught: true }) },
  { name: 'stop() cancels but does not wait for the messages in progress', breaks: ['05.stop-waits'], layer: consuming({ stopWithoutWaiting: true }) },
  { name: 'stop() waits for the messages in progress, then cancels: deliveries keep coming meanwhile', breaks: ['05.stop-waits'], layer: consuming({ stopWaitsThenCancels: true }) },
  { name: 'stop() waits but never cancels the consumer', breaks: ['05.stop-waits'], layer: consuming({ stopNeverCancels: true }) },
  { name: 'the in-flight set is never emptied, so inFlight() only grows', breaks: ['05.prefetch', '05.stop-waits'], layer: consuming({ inFlightNeverShrinks: true }) },
  { name: 'counts a delivery out of inFlight() only when its handler succeeded', breaks: ['05.settled-once'], layer: { ...reference, consume: countOnlySuccesses } },
  { name: 'hands a failed message to onFailure without awaiting it: inFlight() and stop() let it go while onFailure still works', breaks: ['05.stop-waits'], layer: consuming({ onFailureNotAwaited: true }) },
  { name: 'counts a delivery out of inFlight() in a finally around its handler, before onFailure has run', breaks: ['05.stop-waits'], layer: { ...reference, consume: countOutBeforeOnFailure } },
  { name: "ignores the broker's cancel (the null delivery)", breaks: ['05.cancelled'], layer: consuming({ ignoreCancel: true }) },
  { name: "hands the broker's cancel (null) to the handler as a message", breaks: ['05.cancelled'], layer: consuming({ nullToHandler: true }) },
  {
    name: 'processOnce without the check: a repeated message is applied again',
    breaks: ['05.process-once'],
    layer: processing((store, messageId, apply) =>
      store.transaction(() => {
        apply();
        store.record(messageId);
        return true;
      })),
  },
  {
    name: 'processOnce returns whether the message was a duplicate (true for the repeat)',
    breaks: ['05.process-once'],
    layer: processing((store, messageId, apply) =>
      store.transaction(() => {
        if (store.has(messageId)) return true;
        apply();
        store.record(messageId);
        return false;
      })),
  },
  {
    name: 'processOnce always returns true',
    breaks: ['05.process-once'],
    layer: processing((store, messageId, apply) => {
      store.transaction(() => {
        if (store.has(messageId)) return;
        apply();
        store.record(messageId);
      });
      return true;
    }),
  },
  {
    name: 'processOnce checks and records outside the transaction of the work',
    breaks: ['05.process-once-atomic'],
    layer: processing((store, messageId, apply) => {
      if (store.has(messageId)) return false;
      store.transaction(apply);
      store.record(messageId);
      return true;
    }),
  },
  {
    name: 'processOnce looks the id up before opening the transaction of the work and the record',
    breaks: ['05.process-once-atomic'],
    layer: processing((store, messageId, apply) => {
      if (store.has(messageId)) return false;
      return store.transaction(() => {
        apply();
        store.record(messageId);
        return true;
      });
    }),
  },
  {
    name: "processOnce catches the work's error and returns false",
    breaks: ['05.process-once-atomic'],
    layer: processing((store, messageId, apply) =>
      store.transaction(() => {
        if (store.has(messageId)) return false;
        try {
          apply();
        } catch {
          return false;
        }
        store.record(messageId);
        return true;
      })),
  },
  {
    name: 'processOnce records the id in a transaction of its own, after the work',
    breaks: ['05.process-once-atomic'],
    layer: processing((store, messageId, apply) => {
      const fresh = store.transaction(() => {
        if (store.has(messageId)) return false;
        apply();
        return true;
      });
      if (fresh) store.transaction(() => store.record(messageId));
      return fresh;
    }),
  },
  {
    name: 'processOnce without a transaction',
    breaks: ['05.process-once-atomic'],
    layer: processing((store, messageId, apply) => {
      if (store.has(messageId)) return false;
      apply();
      store.record(messageId);
      return true;
    }),
  },
]);

/** Settles unless the channel has closed meanwhile (any error of a settle is that). */
const quietly = (settle: () => void) => {
  try {
    settle();
  } catch {
    // the channel closed: the broker requeues the message itself
  }
};

export const alternatives = defineAlternatives('acks', [
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
          working.set(tag, (async () => {
            let failure: { error: unknown } | undefined;
            try {
              await handler(message);
            } catch (error) {
              failure = { error };
            }
            if (failure) await onFailure(channel, message, failure.error).catch((error: unknown) => console.error('onFailure failed', error));
            else quietly(() => channel.ack(message));
            working.delete(tag);
          })());
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
        const { consumerTag } = await channel.consume(queue, (message: ConsumeMessage | null) => {
          if (message === null) return void onCancelled?.();
          active++;
          handler(message)
            .then(
              () => quietly(() => channel.ack(message)),
              (error: unknown) => onFailure(channel, message, error),
            )
            .catch(() => {})
            .finally(finished);
        }, { noAck: false });
        const handle: ConsumerHandle = {
          consumerTag,
          inFlight: () => active,
          async stop() {
            await channel.cancel(consumerTag).then(() => undefined, () => undefined);
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
        // eslint-disable-next-line @typescript-eslint/no-misused-promises -- the callback catches its handler's errors itself
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
]);
