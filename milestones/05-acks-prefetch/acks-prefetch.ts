// Milestone 5: manual acks, prefetch and idempotency. Every service consumes its queues through
// consume, and runs every event handler inside processOnce.
// Read README.md in this folder first. Run `npm run milestone -- 5` to watch it work,
// `npm run grade -- 5` to check it, `npm run hint -- 5` when stuck.
import { type ConsumeMessage, IllegalOperationError } from 'amqplib'; // ConsumeMessage: a delivery's type
import type { AckLayer } from '../../shared/layers/05-acks-prefetch.ts';
import { todo } from '../../shared/workshop/exercise.ts';

export const acks: AckLayer = {
  async consume(channel, queue, handler, { prefetch, onFailure, onCancelled }) {
    // 🐨 The consumer never holds more than `prefetch` unsettled deliveries (README § Prefetch).

    // 🐨 A consumer that crashes while a handler runs loses nothing: the broker gives that message
    //    to the next consumer (README § Automatic or manual acknowledgements).

    // 🐨 Each delivery is settled exactly once. A handler that throws hands the channel, the
    //    message and its error to onFailure, which settles it; consume does not (README § ack, nack,
    //    reject, and requeue). Nothing escapes: not onFailure's own error, not an ack on a channel
    //    that closed meanwhile (README § Pitfalls).

    // 🐨 When the broker cancels the consumer, call onCancelled (README § A consumer cancelled by the broker).

    // 🐨 Return a ConsumerHandle: its consumerTag; inFlight(), the deliveries being handled now;
    //    stop(), no new deliveries, then resolve once those in hand are settled, even on a closed
    //    channel (README § Stopping cleanly).
    const closedMeanwhile = (error: unknown) => error instanceof IllegalOperationError; // what amqplib throws on a closed channel
    return todo(import.meta.url, 'consume');
  },

  processOnce(store, messageId, apply) {
    // 🐨 Apply a message's effects at most once per message id, and return whether this call applied
    //    them. A failure anywhere leaves nothing behind and reaches the caller, and two workers
    //    handling the same id at once apply it once (README § Idempotency).
    return todo(import.meta.url, 'processOnce');
  },
};
