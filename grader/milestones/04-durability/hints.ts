// The hints of `npm run hint -- 4`, one level at a time: the concept, then the API to use, then the
// hard part shown on another example. They narrow; they never solve (grader/tests/hint.test.ts).
export const hints: string[] = [
  // The concept.
  'Two promises, kept separately. Surviving a restart takes three durable things: the exchange, the queue and the message; ' +
    'one missing and the message is gone. Knowing the broker has a message takes its answer to that one publish, and the ' +
    'answers arrive on a channel shared by a hundred publishes: the confirm callback is per publish, but a message sent back ' +
    'as unroutable arrives as an event of the whole channel, just before its ack. Your publish has to recognise its own.',
  // The API.
  'Exchange and queue options: durable, autoDelete, arguments ({ "alternate-exchange": name }, { "x-queue-type": "quorum" }). ' +
    "ConfirmChannel#publish(exchange, key, content, options, callback): the callback gets no error on the broker's ack and " +
    'an error on its nack or when the channel dies; options persistent: true, mandatory: true. channel.on("return", (msg) => …) ' +
    'sees every message sent back, with msg.properties as published. publish on a closed channel throws at once.',
  // The hard part, on another example.
  [
    'A print shop that must know each job reached a printer queue, not your system: one listener, one id per job.',
    'const sentBack = new Set<string>();',
    "jobs.on('return', (m) => sentBack.add(m.properties.messageId));  // added once per channel, never per job",
    'const jobId = job.id ?? randomUUID();  // without an id, two returns cannot be told apart',
    "jobs.publish('printers', 'a4.colour', job.pdf, { messageId: jobId, persistent: true, mandatory: true }, (err) => {",
    '  if (sentBack.delete(jobId)) failed(new Error("no printer takes a4.colour"));  // the return came first: not OK',
    '  else if (err) failed(whyTheChannelClosed ?? err);  // a nack, or the channel died: say which',
    '  else done();',
    '});',
  ].join('\n'),
];
