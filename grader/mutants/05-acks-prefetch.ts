// Known-wrong ack layers for milestone 5: the reference consume with one classic mistake each.
import { type ConsumeMessage, IllegalOperationError } from 'amqplib';
import type { AckLayer } from '../../shared/layers/05-acks-prefetch.ts';
import { acks as reference } from '../../solutions/layers/05-acks-prefetch.ts';
import { defineMutants } from './mutant.ts';

interface Mistakes {
  /** consume with noAck: true (and so no acks): the broker forgets a message as soon as it sends it. */
  noAck?: boolean;
  ackBeforeHandler?: boolean;
  noPrefetch?: boolean;
  /** A failed handler's message is acked and onFailure never hears of it. */
  silentAck?: boolean;
  stopWithoutWaiting?: boolean;
  ignoreCancel?: boolean;
}

const unlessClosed = (settle: () => void) => {
  try {
    settle();
  } catch (error) {
    if (!(error instanceof IllegalOperationError)) throw error;
  }
};

function consumeWith(mistakes: Mistakes): AckLayer['consume'] {
  return async (channel, queue, handler, { prefetch, onFailure, onCancelled }) => {
    if (!mistakes.noPrefetch) await channel.prefetch(prefetch);
    const inFlight = new Set<Promise<void>>();
    const ack = (message: ConsumeMessage) => {
      if (!mistakes.noAck) unlessClosed(() => channel.ack(message));
    };
    const handle = async (message: ConsumeMessage): Promise<void> => {
      if (mistakes.ackBeforeHandler) ack(message);
      try {
        await handler(message);
      } catch (error) {
        if (mistakes.silentAck) return ack(message);
        await onFailure(channel, message, error).catch(() => {});
        return;
      }
      if (!mistakes.ackBeforeHandler) ack(message);
    };
    const { consumerTag } = await channel.consume(
      queue,
      (message) => {
        if (message === null) return mistakes.ignoreCancel ? undefined : onCancelled?.();
        const settled = handle(message).finally(() => inFlight.delete(settled));
        inFlight.add(settled);
      },
      { noAck: Boolean(mistakes.noAck) },
    );
    return {
      consumerTag,
      inFlight: () => inFlight.size,
      async stop() {
        await channel.cancel(consumerTag).catch(() => {});
        if (!mistakes.stopWithoutWaiting) await Promise.all(inFlight);
      },
    };
  };
}

export const mutants = defineMutants('acks', [
  {
    name: 'consumes with noAck: true',
    breaks: ['05.redelivered', '05.prefetch'],
    layer: { ...reference, consume: consumeWith({ noAck: true }) },
  },
  {
    name: 'acks a message before its handler runs',
    breaks: ['05.redelivered', '05.failure'],
    layer: { ...reference, consume: consumeWith({ ackBeforeHandler: true }) },
  },
  {
    name: 'never sets prefetch',
    breaks: ['05.prefetch'],
    layer: { ...reference, consume: consumeWith({ noPrefetch: true }) },
  },
  {
    name: 'a failed message is acked silently; onFailure is never called',
    breaks: ['05.failure'],
    layer: { ...reference, consume: consumeWith({ silentAck: true }) },
  },
  {
    name: 'stop() cancels but does not wait for the messages in progress',
    breaks: ['05.stop-waits'],
    layer: { ...reference, consume: consumeWith({ stopWithoutWaiting: true }) },
  },
  {
    name: "ignores the broker's cancel (the null delivery)",
    breaks: ['05.cancelled'],
    layer: { ...reference, consume: consumeWith({ ignoreCancel: true }) },
  },
  {
    name: 'processOnce without the check: a repeated message is applied again',
    breaks: ['05.process-once'],
    layer: {
      ...reference,
      processOnce: (store, messageId, apply) =>
        store.transaction(() => {
          apply();
          store.record(messageId);
          return true;
        }),
    },
  },
  {
    name: 'processOnce checks and records outside the transaction of the work',
    breaks: ['05.process-once'],
    layer: {
      ...reference,
      processOnce: (store, messageId, apply) => {
        if (store.has(messageId)) return false;
        store.transaction(apply);
        store.record(messageId);
        return true;
      },
    },
  },
]);
