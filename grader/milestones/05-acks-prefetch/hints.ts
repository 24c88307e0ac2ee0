// The hints of `npm run hint -- 5`, one level at a time: the concept, then the API to use, then the
// hard part shown on another example. They narrow; they never solve (grader/tests/hint.test.ts).
export const hints: string[] = [
  // The concept.
  'Every delivery gets one answer, from one place, after the truth is known. Yours is the ack, once the handler resolved; ' +
    'when it threw, the answer belongs to onFailure, and you must not give one as well. Prefetch only works if answers come: ' +
    'a delivery never answered holds a slot for ever. And amqplib does not await your callback: whatever it rejects with ' +
    'escapes as an unhandled rejection, so nothing may. For the once-only part, the question "done already?" must be asked ' +
    'inside the transaction that does the work, or two workers both hear "no".',
  // The API.
  'channel.prefetch(n) before channel.consume(queue, callback, { noAck: false }), which resolves with { consumerTag }; ' +
    'channel.ack(message); channel.cancel(consumerTag) stops new deliveries. The callback gets null when the broker cancels ' +
    "the consumer. An ack on a channel that has closed throws IllegalOperationError (the starter's closedMeanwhile tells it). " +
    'The store: transaction(work) returns what work returns and rolls back when it throws; has(id); record(id).',
  // The hard part, on another example.
  [
    'A thumbnail worker, not your system: the answer comes last, and only one of the two places gives it.',
    'async function onePhoto(photo: ConsumeMessage): Promise<void> {  // never rejects',
    '  try { await makeThumbnail(photo); }',
    '  catch (err) { await whenItFails(channel, photo, err).catch(logIt); return; }  // it answers; you do not',
    '  try { channel.ack(photo); } catch { /* closed meanwhile: the broker hands the photo to another worker */ }',
    '}',
    '// to wait for the photos in hand before stopping: keep each onePhoto(...) promise in a Set until it settles',
  ].join('\n'),
];
