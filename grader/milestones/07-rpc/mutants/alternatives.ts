// Known-valid RPC layers, each part whole as a learner writes it: direct reply-to, other bookkeeping
// of the waiting calls, a server that rejects a failed request. Each must pass every check.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Channel, ConsumeMessage } from 'amqplib';
import type { ConsumerHandle } from '../../../../shared/layers/05-acks-prefetch.ts';
import { type RpcClient, type RpcHandler, RpcTimeoutError } from '../../../../shared/layers/07-rpc.ts';
import { describeError } from '../../../../shared/log.ts';
import { rpc as reference } from '../../../../solutions/layers/07-rpc.ts';
import type { Alternative } from '../../../mutant.ts';
import { ERROR_HEADER, JSON_TYPE } from './client.ts';

/** The ConsumerHandle of a server: stop() cancels the consumer, then waits for the answers in flight. */
function handleOf(channel: Channel, consumerTag: string, inFlight: () => Promise<void>[]): ConsumerHandle {
  const stop = async () => {
    await channel.cancel(consumerTag).catch(() => {});
    await Promise.all(inFlight());
  };
  return { consumerTag, inFlight: () => inFlight().length, stop };
}

/**
 * Direct reply-to: no reply queue at all. The client consumes the pseudo-queue amq.rabbitmq.reply-to
 * (noAck, on the channel it publishes on, before its first publish); the broker hands the replies
 * straight back. Its bookkeeping is another shape too: an EventEmitter keyed by correlation id, each
 * call's timer in its closure.
 */
async function directReplyToClient(channel: Channel, { timeoutMs }: { timeoutMs: number }): Promise<RpcClient> {
  const DIRECT = 'amq.rabbitmq.reply-to';
  const replies = new EventEmitter();
  replies.setMaxListeners(0);
  const { consumerTag } = await channel.consume(
    DIRECT,
    (reply) => {
      if (reply) replies.emit(reply.properties.correlationId ?? '', reply);
    },
    { noAck: true },
  );
  const close = new EventEmitter();
  close.setMaxListeners(0);
  return {
    call(queue, request) {
      return new Promise((resolve, reject) => {
        const correlationId = randomUUID();
        const done = () => {
          clearTimeout(timer);
          replies.removeAllListeners(correlationId);
          close.off('close', onClose);
        };
        const onClose = () => {
          done();
          reject(new Error('the RPC client was closed'));
        };
        const timer = setTimeout(() => {
          done();
          reject(new RpcTimeoutError(queue, timeoutMs));
        }, timeoutMs);
        close.on('close', onClose);
        replies.once(correlationId, (reply: ConsumeMessage) => {
          done();
          try {
            const body = JSON.parse(reply.content.toString('utf8')) as { error?: unknown };
            if (reply.properties.headers?.[ERROR_HEADER]) reject(new Error(String(body.error)));
            else resolve(body);
          } catch {
            reject(new Error('the reply is not valid JSON'));
          }
        });
        channel.sendToQueue(queue, Buffer.from(JSON.stringify(request)), {
          replyTo: DIRECT,
          correlationId,
          contentType: JSON_TYPE,
          expiration: String(timeoutMs),
        });
      });
    },
    async close() {
      close.emit('close');
      await channel.cancel(consumerTag).catch(() => {});
    },
  };
}

/** Bookkeeping as a plain object of settle functions and a separate map of timers. */
async function recordClient(channel: Channel, { timeoutMs }: { timeoutMs: number }): Promise<RpcClient> {
  const { queue: replyQueue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
  const waiting: Record<string, (outcome: { body?: unknown; error?: Error }) => void> = {};
  const timers = new Map<string, NodeJS.Timeout>();
  const finish = (id: string, outcome: { body?: unknown; error?: Error }) => {
    const settleCall = waiting[id];
    if (!settleCall) return;
    delete waiting[id];
    clearTimeout(timers.get(id));
    timers.delete(id);
    settleCall(outcome);
  };
  const { consumerTag } = await channel.consume(
    replyQueue,
    (reply) => {
      const id = reply?.properties.correlationId;
      if (!reply || typeof id !== 'string' || !(id in waiting)) return;
      let body: unknown;
      try {
        body = JSON.parse(reply.content.toString('utf8'));
      } catch {
        return finish(id, { error: new Error('the reply is not valid JSON') });
      }
      const failed = reply.properties.headers?.[ERROR_HEADER];
      finish(id, failed ? { error: new Error(String((body as { error?: unknown }).error)) } : { body });
    },
    { noAck: true },
  );
  return {
    async call(queue, request) {
      const id = randomUUID();
      const answer = new Promise<unknown>((resolve, reject) => {
        waiting[id] = ({ body, error }) => (error ? reject(error) : resolve(body));
      });
      timers.set(
        id,
        setTimeout(() => finish(id, { error: new RpcTimeoutError(queue, timeoutMs) }), timeoutMs),
      );
      channel.sendToQueue(queue, Buffer.from(JSON.stringify(request)), {
        replyTo: replyQueue,
        correlationId: id,
        contentType: JSON_TYPE,
        expiration: String(timeoutMs),
      });
      return answer;
    },
    async close() {
      for (const id of Object.keys(waiting)) finish(id, { error: new Error('the RPC client was closed') });
      await channel.cancel(consumerTag);
    },
  };
}

/** A server that works one request at a time (prefetch 1) and rejects, without requeue, a request whose handler threw, after its error reply. */
async function oneAtATimeServer(channel: Channel, queue: string, handler: RpcHandler): Promise<ConsumerHandle> {
  await channel.prefetch(1);
  let current: Promise<void> | undefined;
  const { consumerTag } = await channel.consume(queue, (request) => {
    if (!request) return;
    current = (async () => {
      const { replyTo, correlationId } = request.properties;
      let reply: { body: unknown; failed: boolean } | undefined;
      if (replyTo) {
        try {
          reply = { body: (await handler(JSON.parse(request.content.toString('utf8')))) ?? null, failed: false };
        } catch (error) {
          reply = { body: { error: describeError(error) }, failed: true };
        }
      }
      try {
        if (reply)
          channel.sendToQueue(replyTo, Buffer.from(JSON.stringify(reply.body)), {
            correlationId,
            contentType: JSON_TYPE,
            headers: reply.failed ? { [ERROR_HEADER]: true } : {},
          });
        if (reply?.failed) channel.reject(request, false);
        else channel.ack(request);
      } catch {
        // the channel closed: the broker redelivers the request
      }
    })().finally(() => (current = undefined));
  });
  return handleOf(channel, consumerTag, () => (current ? [current] : []));
}

export const alternatives: Alternative<'rpc'>[] = [
  {
    name: 'direct reply-to (amq.rabbitmq.reply-to), calls waiting on an EventEmitter',
    layer: { ...reference, createClient: directReplyToClient },
  },
  { name: 'pending calls in a plain object, their timers in a map of their own', layer: { ...reference, createClient: recordClient } },
  {
    name: 'a server with prefetch 1 that rejects (no requeue) a request whose handler threw, after its error reply',
    layer: { ...reference, serve: oneAtATimeServer },
  },
];
