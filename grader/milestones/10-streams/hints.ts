// The hints of `npm run hint -- 10`, one level at a time: the concept, then the API to use, then the
// hard part shown on another example. They narrow; they never solve (grader/tests/hint.test.ts).
export const hints: string[] = [
  // The concept.
  'A stream is declared like a queue, with one argument that makes it a log, and its retention is an argument too. ' +
    'Reading it is consuming it, with two differences from a queue: each consumer says where in the log it starts ' +
    '(an argument of the consume call, not of the queue), and the broker insists on a prefetch and on manual acks, ' +
    'although an ack removes nothing: it only makes room for the next deliveries.',
  // The API.
  'channel.assertQueue(name, { durable: true, arguments: { ... } }) declares; channel.prefetch(n) sets the prefetch of ' +
    'the consumers created after it on that channel; channel.consume(queue, onMessage, { noAck: false, arguments: { ... } }) ' +
    'starts one. A delivery from a stream carries its offset in message.properties.headers. amqplib sends a JavaScript ' +
    'number, string or boolean as such; any other object becomes a table, unless written { "!": "timestamp", value: seconds }.',
  // The hard part, on another example.
  [
    'A ledger of payments, consumed by a report that must see each entry once, in order, one at a time:',
    'let previous = Promise.resolve();',
    'await channel.consume("ledger", (delivery) => {',
    '  if (!delivery) return;  // the broker cancelled the consumer',
    '  previous = previous.then(async () => {  // each entry waits for the one before it',
    '    try { await addToReport(delivery); } catch (error) { log(error); }  // no requeue on a log',
    '    channel.ack(delivery);  // after the work: the ack makes room in the prefetch',
    '  });',
    '}, { noAck: false, arguments: { "x-stream-offset": { "!": "timestamp", value: Math.floor(since.getTime() / 1000) } } });',
  ].join('\n'),
];
