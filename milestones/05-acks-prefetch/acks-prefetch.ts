// Milestone 5: manual acks, prefetch and idempotency. Every service consumes its queues through
// consume, and runs every event handler inside processOnce.
// Read README.md in this folder first. Run `npm run milestone -- 5` to watch it work,
// `npm run grade -- 5` to check it.
import { type ConsumeMessage, IllegalOperationError } from 'amqplib';
import type { AckLayer } from '../../shared/layers/05-acks-prefetch.ts';
import { todo } from '../../shared/workshop/exercise.ts';

export const acks: AckLayer = {
  async consume(channel, queue, handler, { prefetch, onFailure, onCancelled }) {
    // 🐨 1. Limit the unacknowledged deliveries this channel holds: await channel.prefetch(prefetch).
    //       It must come before channel.consume: it applies to consumers started after it.

    // 🐨 2. Keep the deliveries being handled: const inFlight = new Set<Promise<void>>().

    // 🐨 3. Write handle(message: ConsumeMessage): Promise<void>, which never rejects:
    //       - await handler(message), then channel.ack(message);
    //       - if the handler throws: await onFailure(channel, message, error) and do NOT ack
    //         (onFailure decides: retry or park). If onFailure itself throws, log it and carry on;
    //       - channel.ack throws IllegalOperationError when the channel has closed meanwhile:
    //         catch that one and ignore it (the broker has already requeued the message).

    // 🐨 4. const { consumerTag } = await channel.consume(queue, (message) => { ... }, { noAck: false })
    //       - message === null means the broker cancelled this consumer: call onCancelled?.();
    //       - otherwise start handle(message), put its promise in inFlight, and delete it when it settles.
    // 💰 const settled = handle(message).finally(() => inFlight.delete(settled)); inFlight.add(settled);

    // 🐨 5. Return { consumerTag, inFlight: () => inFlight.size, stop } where stop():
    //       await channel.cancel(consumerTag) (ignore its error: a closed channel has no consumer left),
    //       then await Promise.all(inFlight).
    void IllegalOperationError; // imported for step 3
    return todo(import.meta.url, 'consume');
  },

  processOnce(store, messageId, apply) {
    // 🐨 Inside ONE store.transaction(() => ...):
    //       if store.has(messageId) → return false (already done: do nothing);
    //       else apply(), store.record(messageId), return true.
    //    Let an error from apply() propagate: the transaction rolls back, nothing is recorded,
    //    and the message is tried again.
    return todo(import.meta.url, 'processOnce');
  },
};
