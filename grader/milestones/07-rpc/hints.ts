// The hints of `npm run hint -- 7`, one level at a time: the concept, then the API to use, then the
// hard parts shown on another example. They narrow; they never solve (grader/tests/hint.test.ts).
export const hints: string[] = [
  // The concept.
  'A client is set up once and asked many times: its reply queue and its one consumer belong to the client, not to a ' +
    'question. Each question is an entry in a map, by correlation id, with its timer; the question ends exactly once ' +
    '(answered, timed out, or the client shut down), and whichever way it ends removes the entry and the timer both. ' +
    'The server has one rule of order: the answer leaves before the ack, so a crash in between repeats an answer ' +
    'instead of losing a question.',
  // The API.
  "Client: channel.assertQueue('', { exclusive: true, autoDelete: true }) gives a private queue with a broker-made name; " +
    'channel.consume(thatQueue, onReply, { noAck: true }) once, keeping its consumerTag; channel.sendToQueue(queue, content, ' +
    '{ replyTo, correlationId, contentType, expiration }), where expiration is milliseconds as a string; setTimeout and ' +
    'clearTimeout; channel.cancel(consumerTag) to let the reply consumer go. Server: channel.consume(queue, onRequest, ' +
    '{ noAck: false }); request.properties.replyTo and .correlationId; channel.sendToQueue(replyTo, …); channel.ack(request).',
  // The hard part, on another example: how a question ends.
  [
    'A quote desk asking a pricing service, not your system: three ways for a question to end, each undoing all of it.',
    '// answered:  open.delete(id); clearTimeout(entry.timer); then resolve or reject with what came back',
    '// timed out: open.delete(id); then reject (the timer has fired: nothing else to clear)',
    '// shut down: clearTimeout and reject every entry, open.clear(), then cancel the reply consumer',
    "channel.sendToQueue('quotes', body, { replyTo: deskQueue, correlationId: id, expiration: String(waitMs) });",
    '// expiration: once the desk gives up, the question must not wait in the queue for a server either',
  ].join('\n'),
  // The hard part, on another example: what the server answers.
  [
    'A pricing server, not your system: a question always gets an answer, then an ack.',
    'let body: unknown; let failed = false;',
    'try { body = (await price(JSON.parse(text))) ?? null; }  // JSON.stringify(undefined) is not a string',
    'catch (err) { body = { problem: describeError(err) }; failed = true; }  // your wire format names this field',
    'channel.sendToQueue(q.properties.replyTo, Buffer.from(JSON.stringify(body)),',
    '  { correlationId: q.properties.correlationId, headers: failed ? { [FAILED_HEADER]: true } : {} });',
    'channel.ack(q);  // after the answer; and never a requeue: the same question would fail again',
  ].join('\n'),
];
