// Layer 7: request/response over queues. The client sends with reply_to (its own exclusive queue)
// and a fresh correlation_id; the server answers to reply_to with the same correlation_id.
import { randomUUID } from 'node:crypto';
import { type Channel, type ConsumeMessage, IllegalOperationError } from 'amqplib';
import type { ConsumerHandle } from '../../shared/layers/05-acks-prefetch.ts';
import { type RpcClient, type RpcHandler, type RpcLayer, type RpcServeOptions, RpcTimeoutError } from '../../shared/layers/07-rpc.ts';
import { describeError } from '../../shared/log.ts';

const JSON_CONTENT_TYPE = 'application/json';
const ERROR_HEADER = 'x-rpc-error';

/** The message of an error reply ({error: "..."}). */
function remoteError(body: unknown): string {
  return typeof body === 'object' && body !== null && 'error' in body ? String(body.error) : 'the server failed without saying why';
}

interface PendingCall {
  resolve(reply: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

async function createClient(channel: Channel, { timeoutMs }: { timeoutMs: number }): Promise<RpcClient> {
  // Server-named, exclusive, auto-deleted: private to this client and gone with it.
  const { queue: replyQueue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
  const pending = new Map<string, PendingCall>();
  let closed = false;

  const settle = (correlationId: string, outcome: (call: PendingCall) => void) => {
    const call = pending.get(correlationId);
    if (!call) return; // a reply to a call that timed out, or not ours at all: nobody is waiting
    pending.delete(correlationId);
    clearTimeout(call.timer);
    outcome(call);
  };

  // noAck: a reply nobody is waiting for any more has no value worth redelivering.
  const { consumerTag } = await channel.consume(
    replyQueue,
    (reply) => {
      if (reply === null) return;
      settle(reply.properties.correlationId, (call) => {
        let body: unknown;
        try {
          body = JSON.parse(reply.content.toString('utf8'));
        } catch {
          return call.reject(new Error('the reply is not valid JSON'));
        }
        if (reply.properties.headers?.[ERROR_HEADER]) call.reject(new Error(remoteError(body)));
        else call.resolve(body);
      });
    },
    { noAck: true },
  );

  return {
    async call(queue, request) {
      if (closed) throw new Error('the RPC client is closed');
      const correlationId = randomUUID();
      // expiration: a request nobody picked up within the timeout is discarded, not answered late.
      channel.sendToQueue(queue, Buffer.from(JSON.stringify(request)), {
        replyTo: replyQueue,
        correlationId,
        contentType: JSON_CONTENT_TYPE,
        expiration: String(timeoutMs),
      });
      return new Promise<unknown>((resolve, reject) => {
        const timer = setTimeout(() => settle(correlationId, (call) => call.reject(new RpcTimeoutError(queue, timeoutMs))), timeoutMs);
        pending.set(correlationId, { resolve, reject, timer });
      });
    },

    async close() {
      closed = true;
      for (const correlationId of [...pending.keys()]) settle(correlationId, (call) => call.reject(new Error('the RPC client was closed')));
      await channel.cancel(consumerTag).catch(() => {}); // a closed channel has no consumer left
    },
  };
}

/** The JSON reply: the handler's result, or {error} when the request is not JSON or the handler throws. */
async function replyFor(request: ConsumeMessage, handler: RpcHandler): Promise<{ content: Buffer; failed: boolean }> {
  const failure = (message: string) => ({ content: Buffer.from(JSON.stringify({ error: message })), failed: true });
  let parsed: unknown;
  try {
    parsed = JSON.parse(request.content.toString('utf8'));
  } catch (error) {
    return failure(`the request is not valid JSON (${describeError(error)})`);
  }
  try {
    const result = await handler(parsed);
    return { content: Buffer.from(JSON.stringify(result ?? null)), failed: false }; // undefined is not JSON
  } catch (error) {
    return failure(describeError(error));
  }
}

async function serve(channel: Channel, queue: string, handler: RpcHandler, options: RpcServeOptions = {}): Promise<ConsumerHandle> {
  const inFlight = new Set<Promise<void>>();

  const answer = async (request: ConsumeMessage) => {
    const { replyTo, correlationId } = request.properties;
    // Without reply_to there is nobody to answer: drop it (acked) rather than do work for no one.
    const reply = replyTo ? await replyFor(request, handler) : undefined;
    try {
      if (reply) {
        const headers = reply.failed ? { [ERROR_HEADER]: true } : {};
        channel.sendToQueue(replyTo, reply.content, { correlationId, contentType: JSON_CONTENT_TYPE, headers });
      }
      channel.ack(request); // after the reply: a crash in between means a duplicate reply, which the client ignores
    } catch (error) {
      if (!(error instanceof IllegalOperationError)) throw error; // channel closed: the request is redelivered
    }
  };

  const { consumerTag } = await channel.consume(
    queue,
    (request) => {
      if (request === null) return options.onCancelled?.(); // cancelled by the broker: no more requests come
      const answered = answer(request).finally(() => inFlight.delete(answered));
      inFlight.add(answered);
    },
    { noAck: false },
  );

  return {
    consumerTag,
    inFlight: () => inFlight.size,
    async stop() {
      await channel.cancel(consumerTag).catch(() => {}); // a closed channel has no consumer left
      await Promise.all(inFlight);
    },
  };
}

export const rpc: RpcLayer = { createClient, serve };
