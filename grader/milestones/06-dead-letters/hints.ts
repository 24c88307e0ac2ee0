// The hints of `npm run hint -- 6`, one level at a time: the concept, then the API to use, then the
// hard parts shown on another example. They narrow; they never solve (grader/tests/hint.test.ts).
export const hints: string[] = [
  // The concept.
  'The broker does the waiting and the counting; your code only decides. A reject without requeue sends the message, by ' +
    "the queue's own arguments, to wait in its retry queue, and the TTL there sends it home; each of those trips leaves a " +
    'mark in x-death. So the number of tries is on the message, not in your memory. When they are used up, your code takes ' +
    'over: a copy with the story goes aside, and the original may leave only once the broker holds that copy. ' +
    'Where the spec says the message waits in its queue (4.3+, quorum), the queue itself holds and counts: no retry queue, no x-death.',
  // The API.
  'Queue arguments: "x-dead-letter-exchange", "x-dead-letter-routing-key", "x-message-ttl" (a number). The default ' +
    'exchange is named "", a name like any other: test for undefined, not for truthiness. ' +
    'message.properties.headers?.["x-death"] is a list of { queue, reason, count, … }, absent on a message that never died. ' +
    'channel.nack(message, false, false) dead-letters it; channel.nack(message, false, true) puts it back in its queue. ' +
    'On a confirm channel, channel.publish(...) then await channel.waitForConfirms(), which rejects when the broker refused it. ' +
    'message.fields holds the exchange and routingKey this delivery came with. ' +
    'The 4.3 path: "x-delayed-retry-type", "x-delayed-retry-min" (a number), "x-delivery-limit" (failures let through); ' +
    'headers["x-delivery-count"], absent on a first delivery; channel.reject(message, true) counts as a failure, a nack does not.',
  // The hard part, on another example: which tries count.
  [
    "An SMS gateway, not your system: 'sms-out' retries through 'sms-out.wait', four tries in all.",
    "const deaths = sms.properties.headers?.['x-death'] ?? [];",
    "const failedBefore = deaths.filter((d) => d.queue === 'sms-out' && d.reason === 'rejected')  // not the waits",
    '  .reduce((n, d) => n + d.count, 0);  // one entry per (queue, reason), each with its count',
    'const thisTry = failedBefore + 1;  // the delivery in hand is a try too',
    'if (thisTry < 4) channel.nack(sms, false, false);  // off to wait; requeue true would loop hot',
  ].join('\n'),
  // The hard part, on another example: which tries count where the queue holds them (4.3+, quorum).
  [
    "The same gateway on RabbitMQ 4.3: 'sms-out' is a quorum queue that holds a failed SMS itself, four tries in all.",
    "const failedBefore = sms.properties.headers?.['x-delivery-count'] ?? 0;  // the queue's count: absent the first time",
    'const thisTry = failedBefore + 1;',
    'if (thisTry < 4) channel.reject(sms, true);  // counted and held for the delay; a nack would be neither',
    '// A give-back that is not a failure (shutting down, a refused copy) is a nack: the count stays.',
  ].join('\n'),
  // The hard part, on another example: the order of the answers.
  [
    'Setting an SMS aside for a person, when the broker may refuse the copy:',
    "channel.publish('sms-failed', '', sms.content, { ...sms.properties, persistent: true, headers: withWhy });",
    'try { await channel.waitForConfirms(); }',
    'catch (refused) { channel.nack(sms, false, true); throw refused; }  // the original goes back, the failure goes up',
    'channel.ack(sms);  // only now, and only once: the copy is safe',
  ].join('\n'),
];
