// Milestone 7: request and reply (RPC) over RabbitMQ. The order service asks the payment service
// "has order X been paid?" and waits for the answer, or gives up after a timeout.
// Read README.md in this folder first. Run `npm run milestone -- 7` to watch it work,
// `npm run grade -- 7` to check it.
import { randomUUID } from 'node:crypto';
import type { Channel, ConsumeMessage } from 'amqplib';
import { todo } from '../../shared/workshop/exercise.ts';
import type { ConsumerHandle } from '../../shared/layers/05-acks-prefetch.ts';
import { type RpcClient, type RpcHandler, type RpcLayer, RpcTimeoutError } from '../../shared/layers/07-rpc.ts';
import { describeError } from '../../shared/log.ts';

// The wire format both sides agree on: JSON bodies. A handler that throws is answered with
// {"error": "<its message>"} and the header ERROR_HEADER: true.
const JSON_CONTENT_TYPE = 'application/json';
const ERROR_HEADER = 'x-rpc-error';

/** A call waiting for its reply: settle it once, with resolve or reject, and clear its timer. */
interface PendingCall {
  resolve(reply: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

async function createClient(channel: Channel, { timeoutMs }: { timeoutMs: number }): Promise<RpcClient> {
  // Server-named (''), exclusive and auto-deleted: a reply queue private to this client, gone with it.
  const { queue: replyQueue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
  // The calls still waiting, by correlation id.
  const pending = new Map<string, PendingCall>();
  let closed = false;

  // 🐨 Consume replyQueue with { noAck: true } and, for each reply (skip null):
  //    - find the pending call by reply.properties.correlationId. None? It timed out, or it is not ours:
  //      ignore the reply (never throw here: an exception in a consume callback breaks the connection);
  //    - otherwise delete it from `pending`, clearTimeout(call.timer), parse the JSON body (not JSON? reject
  //      the call), and call.reject(new Error(body.error)) if reply.properties.headers?.[ERROR_HEADER],
  //      else call.resolve(body).
  // 💰 Keep the consumerTag that channel.consume returns: close() needs it.
  let consumerTag: string | undefined;

  return {
    async call(queue, request) {
      if (closed) throw new Error('the RPC client is closed');
      // 🐨 1. correlationId = randomUUID(): a fresh one per call.
      // 🐨 2. channel.sendToQueue(queue, <the request as JSON in a Buffer>, { replyTo: replyQueue, correlationId,
      //       contentType: JSON_CONTENT_TYPE, expiration: String(timeoutMs) }).
      //       expiration: a request nobody picked up in time is dropped by the broker, not answered late.
      // 🐨 3. Return a new Promise: put { resolve, reject, timer } in `pending` under correlationId, where the
      //       timer (setTimeout, timeoutMs) deletes the entry and rejects with new RpcTimeoutError(queue, timeoutMs).
      return todo(import.meta.url, 'call');
    },

    async close() {
      closed = true;
      for (const [correlationId, call] of pending) {
        pending.delete(correlationId);
        clearTimeout(call.timer);
        call.reject(new Error('the RPC client was closed'));
      }
      if (consumerTag) await channel.cancel(consumerTag).catch(() => {}); // a closed channel has no consumer left
    },
  };
}

async function serve(channel: Channel, queue: string, handler: RpcHandler): Promise<ConsumerHandle> {
  const inFlight = new Set<Promise<void>>();

  // 🐨 Write `answer(request: ConsumeMessage): Promise<void>`:
  //    1. const { replyTo, correlationId } = request.properties. No replyTo: nobody to answer, just ack it.
  //    2. Parse the JSON body and await handler(parsed). Its result (null when undefined) is the reply;
  //       if parsing or the handler throws, the reply is { error: describeError(error) } with
  //       headers { [ERROR_HEADER]: true }.
  //    3. channel.sendToQueue(replyTo, <reply as JSON in a Buffer>, { correlationId, contentType: JSON_CONTENT_TYPE, headers }).
  //    4. Then channel.ack(request): after the reply, so a crash in between means a duplicate, not a lost answer.
  // 🐨 Then channel.consume(queue, ...) with { noAck: false }: for each request (skip null) start answer(request),
  //    add its promise to inFlight, and remove it from inFlight when it settles.
  // 🐨 Return the ConsumerHandle: { consumerTag, inFlight: () => inFlight.size,
  //    stop: cancel the consumer (ignore errors), then await Promise.all(inFlight) }.
  return todo(import.meta.url, 'serve');
}

export const rpc: RpcLayer = { createClient, serve };
