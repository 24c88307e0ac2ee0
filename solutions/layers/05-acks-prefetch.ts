// Layer 5: manual acknowledgements. A message leaves the queue only when its work is done, prefetch
// bounds how many a consumer holds at once, and processOnce makes a redelivery harmless.
import { type ConsumeMessage, IllegalOperationError } from 'amqplib';
import type { AckLayer } from '../../shared/layers/05-acks-prefetch.ts';
import { createLogger } from '../../shared/log.ts';

const log = createLogger('acks');

/** Acks or nacks unless the channel has closed meanwhile: then the broker requeues the message itself. */
function unlessClosed(settle: () => void): void {
  try {
    settle();
  } catch (error) {
    if (!(error instanceof IllegalOperationError)) throw error;
  }
}

export const acks: AckLayer = {
  async consume(channel, queue, handler, { prefetch, onFailure, onCancelled }) {
    // Before consume: the limit applies to consumers started after it.
    await channel.prefetch(prefetch);

    const inFlight = new Set<Promise<void>>();

    // Never rejects: every outcome ends in an ack, in onFailure, or in a log line.
    const handle = async (message: ConsumeMessage): Promise<void> => {
      try {
        await handler(message);
      } catch (error) {
        try {
          await onFailure(channel, message, error);
        } catch (failure) {
          log.error(`could not settle a failed message from ${queue}`, failure);
        }
        return;
      }
      unlessClosed(() => channel.ack(message));
    };

    const { consumerTag } = await channel.consume(
      queue,
      (message) => {
        // null: the broker cancelled us (queue deleted, node failover); no more deliveries will come.
        if (message === null) return onCancelled?.();
        const settled = handle(message).finally(() => inFlight.delete(settled));
        inFlight.add(settled);
      },
      { noAck: false },
    );

    return {
      consumerTag,
      inFlight: () => inFlight.size,
      async stop() {
        // A closed channel has no consumer left to cancel; its unacked messages are requeued.
        await channel.cancel(consumerTag).catch(() => {});
        // Deliveries that arrived before cancel-ok are in the set too.
        await Promise.all(inFlight);
      },
    };
  },

  processOnce(store, messageId, apply) {
    // One transaction: a crash between the work and the record can't make the work happen twice.
    return store.transaction(() => {
      if (store.has(messageId)) return false;
      apply();
      store.record(messageId);
      return true;
    });
  },
};
