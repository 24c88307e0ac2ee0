// The hints of `npm run hint -- 4`, one level at a time: the concept, then the API to use, then near-code.
export const hints: string[] = [
  'Two separate promises to keep. Surviving a restart: the exchange, the queue AND the message must each be durable/persistent. ' +
    'Knowing the broker has a message: only its answer to that publish (ack, nack, or a return just before the ack) says so, ' +
    'and many publishes share one channel, so each must find its own answer.',
  'Options: durable, autoDelete, arguments ({ "alternate-exchange": ..., "x-queue-type": ... }). Publishing: the fifth argument of ' +
    "ConfirmChannel#publish is a callback (error) => … run on the broker's answer; mandatory: true makes an unroutable message come " +
    "back first as the channel's 'return' event, whose message.properties.messageId tells which publish it was. " +
    "A channel the broker closes emits 'error' (with its reason) before the callbacks get 'channel closed'.",
  "Near-code: in stateOf, channel.on('return', (m) => fresh.returned.add(m.properties.messageId)). In publishConfirmed: " +
    'const state = stateOf(channel); const messageId = message.options.messageId ?? randomUUID(); ' +
    'return new Promise((resolve, reject) => { try { channel.publish(exchange, routingKey, message.content, ' +
    '{ ...message.options, messageId, persistent: true, mandatory: true }, (error) => { if (state.returned.delete(messageId)) reject(new PublishRejectedError(`unroutable: ${routingKey}`)); ' +
    "else if (!error) resolve(); else if (state.closedBy) reject(state.closedBy); else reject(new PublishRejectedError('nacked')); }); } " +
    'catch (error) { reject(state.closedBy ?? error); } });',
];
