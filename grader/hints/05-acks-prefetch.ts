// The hints of `npm run hint -- 5`, one level at a time: the concept, then the API to use, then near-code.
export const hints: string[] = [
  // The concept
  'Each delivery gets exactly one answer, and only when it is true: an ack once its handler has resolved, ' +
    "or, when the handler threw, whatever onFailure decides (that answer is onFailure's, not consume's). " +
    'Prefetch bounds the deliveries that wait for an answer; stop() needs to know which ones are still being handled. ' +
    'processOnce: the look-up, the work and the record commit together or not at all.',
  // The API
  'channel.prefetch(n) before channel.consume(queue, callback, { noAck: false }); channel.ack(message); ' +
    'channel.cancel(consumerTag) to stop deliveries. The callback gets null when the broker cancels the consumer. ' +
    'channel.ack throws IllegalOperationError (from amqplib) once the channel has closed. ' +
    'store.transaction(work) returns what work returns and rolls back when it throws; store.has(id), store.record(id).',
  // Near-code: consume
  'Write a handle(message) that never rejects: try { await handler(message) } catch (error) { try { await onFailure(channel, message, error) } catch { /* log */ } return } ' +
    'then the ack, wrapped to ignore IllegalOperationError. In the consume callback, start handle(message) and keep its promise ' +
    'in a Set, removed in .finally(); inFlight() is the size; stop() cancels (ignoring its error), then awaits Promise.all of the set.',
  // Near-code: processOnce
  'return store.transaction(() => { if (store.has(messageId)) return false; apply(); store.record(messageId); return true; }) ' +
    '(recording before apply() is just as right: both are in the transaction). No try/catch: the error must reach the caller.',
];
