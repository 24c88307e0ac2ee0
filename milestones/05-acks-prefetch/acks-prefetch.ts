// Milestone 5: manual acks, prefetch and idempotency. Every service consumes its queues through
// consume, and runs every event handler inside processOnce.
// Read README.md in this folder first. Run `npm run milestone -- 5` to watch it work,
// `npm run grade -- 5` to check it, `npm run hint -- 5` when stuck.
import { type ConsumeMessage, IllegalOperationError } from 'amqplib'; // ConsumeMessage: a delivery's type
import type { AckLayer } from '../../shared/layers/05-acks-prefetch.ts';
import { todo } from '../../shared/workshop/exercise.ts';

export const acks: AckLayer = {
  async consume(channel, queue, handler, { prefetch, onFailure, onCancelled }) {
    // 🐨 A consumer that loses nothing when it crashes, holds no more than `prefetch` messages, and
    //    handles those side by side: clauses 1 and 3.

    // 🐨 Every delivery gets its one answer, a failed one from onFailure; nothing the handler,
    //    onFailure or a closed channel throws escapes or stops the consumer: clauses 2, 4 and 5.

    // 🐨 The service hears when the broker cancels the consumer: clause 7.

    // 🐨 A ConsumerHandle whose inFlight() and stop() let the service shut down without handling a
    //    message twice: clauses 3 and 6.
    const closedMeanwhile = (error: unknown) => error instanceof IllegalOperationError; // what amqplib throws on a closed channel
    return todo(import.meta.url, 'consume');
  },

  processOnce(store, messageId, apply) {
    // 🐨 A message id's work applied at most once, however often and however concurrently it
    //    arrives, and never half done: clauses 8 and 9.
    return todo(import.meta.url, 'processOnce');
  },
};
