// The hints of `npm run hint -- 7`, one level at a time: the concept, then the API to use, then near-code.
export const hints: string[] = [
  // The concept.
  'A request carries its return address: reply_to names where the answer goes, correlation_id says which call it answers. ' +
    'The client has ONE reply queue and ONE consumer for all its calls, and a map of the calls still waiting, by correlation id: ' +
    'a reply settles the call its id names, or nothing. Every call ends once and leaves nothing behind (its timer, its map entry). ' +
    'The server replies, and only then acks: a server that dies in between makes the request come back, never vanish.',
  // The API.
  "Client: channel.assertQueue('', { exclusive: true, autoDelete: true }) once, channel.consume(replyQueue, onReply, { noAck: true }) once (keep its consumerTag for close()); " +
    'channel.sendToQueue(queue, content, { replyTo, correlationId, contentType, expiration }) — expiration is a string of milliseconds; ' +
    "reply.properties.correlationId and reply.properties.headers?.['x-rpc-error'] on the way back; setTimeout / clearTimeout for the timeout; channel.cancel(consumerTag) in close(). " +
    'Server: channel.consume(queue, onRequest, { noAck: false }), request.properties.replyTo and .correlationId, channel.sendToQueue(replyTo, ...), then channel.ack(request).',
  // Near-code.
  'call: const correlationId = randomUUID(); sendToQueue(...); return new Promise((resolve, reject) => { const timer = setTimeout(() => { pending.delete(correlationId); reject(new RpcTimeoutError(queue, timeoutMs)); }, timeoutMs); pending.set(correlationId, { resolve, reject, timer }); }). ' +
    'onReply: const call = pending.get(id); if (!call) return; pending.delete(id); clearTimeout(call.timer); then parse inside try and resolve, or reject(new Error(body.error)) when the header is set. ' +
    'answer(request): no replyTo → ack and return; try { result = await handler(JSON.parse(text)) ?? null } catch (e) { error reply { error: describeError(e) } with the header }; sendToQueue(replyTo, ...); channel.ack(request).',
];
