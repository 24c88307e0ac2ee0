// The hints of `npm run hint -- 6`, one level at a time: the concept, then the API to use, then near-code.
export const hints: string[] = [
  // The concept.
  'The broker does the waiting and the counting. A rejected message (requeue = false) is dead-lettered into its queue\'s ' +
    "`<queue>.retry`, whose TTL sends it home after the delay; every dead-lettering adds to the message's x-death header. " +
    'Only when the tries are used up does your code step in: it parks a copy, with the reason, in dead-letter.queue, and lets the original go once that copy is safe.',
  // The API.
  'queueArguments: the keys are x-dead-letter-exchange, x-dead-letter-routing-key and x-message-ttl (a number). ' +
    "attemptsSoFar: message.properties.headers?.['x-death'] is a list of { queue, reason, count }. " +
    'handleFailure: channel.nack(message, allUpTo, requeue) with requeue false to retry. ' +
    'park: channel.publish(exchange, routingKey, content, options) on the confirm channel, then await channel.waitForConfirms(), then channel.ack(message); a rejected waitForConfirms means the broker refused the copy.',
  // Near-code.
  'attemptsSoFar = the sum of `count` over the x-death entries with entry.queue === queue && entry.reason === "rejected". ' +
    'handleFailure: attempts = attemptsSoFar(message, spec.name) + 1; below maxAttempts nack without requeue and return "retrying"; otherwise await park(...) and return "parked". ' +
    'park: options = { ...message.properties, persistent: true, headers: { ...message.properties.headers, [PARK_HEADERS.reason]: reason, ... } }; ' +
    'publish, then try { await waitForConfirms() } catch (e) { nack(message, false, true); throw e } and only then ack(message).',
];
