// Known-wrong RPC layers for milestone 7: a client and a server written the way the lesson asks,
// each with one classic mistake switched on; and known-valid alternatives (direct reply-to, other
// bookkeeping, a server that rejects failed requests) that must pass every check.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { type Channel, type ConsumeMessage, IllegalOperationError } from 'amqplib';
import type { ConsumerHandle } from '../../../shared/layers/05-acks-prefetch.ts';
import { type RpcClient, type RpcHandler, type RpcLayer, RpcTimeoutError } from '../../../shared/layers/07-rpc.ts';
import { describeError } from '../../../shared/log.ts';
import { rpc as reference } from '../../../solutions/layers/07-rpc.ts';
import { defineAlternatives, defineMutants } from '../../mutant.ts';

const ERROR_HEADER = 'x-rpc-error';
const JSON_TYPE = 'application/json';

interface ClientMistakes {
  /** A reply settles the oldest pending call, whatever its correlation id. */
  firstPendingWins?: boolean;
  noTimeout?: boolean;
  noExpiration?: boolean;
  /** The timer rejects the call but leaves it in the pending map. */
  timeoutKeepsPending?: boolean;
  /** The reply settles the call but its timer keeps running. */
  timerNotCleared?: boolean;
  throwOnStrayReply?: boolean;
  /** JSON.parse(reply) first, then look the call up. */
  parseBeforeLookup?: boolean;
  /** Every call declares and consumes a reply queue of its own, never removed. */
  replyQueuePerCall?: boolean;
  /** close() cancels the consumer but forgets the calls still waiting. */
  closeForgetsWaiting?: boolean;
  /** close() rejects the calls still waiting but leaves the consumer (and so the queue). */
  closeKeepsConsumer?: boolean;
  /** The x-rpc-error header is not looked at: an error reply resolves the call. */
  ignoreErrorHeader?: boolean;
}

interface PendingCall {
  resolve(reply: unknown): void;
  reject(error: Error): void;
  timer?: NodeJS.Timeout;
}

function clientWith(mistakes: ClientMistakes): RpcLayer['createClient'] {
  return async (channel: Channel, { timeoutMs }: { timeoutMs: number }): Promise<RpcClient> => {
    const pending = new Map<string, PendingCall>();
    const take = (correlationId: string): PendingCall | undefined => {
      const id = mistakes.firstPendingWins ? pending.keys().next().value : correlationId;
      const call = id === undefined ? undefined : pending.get(id);
      if (call && id !== undefined) pending.delete(id);
      return call;
    };
    const onReply = (reply: ConsumeMessage | null) => {
      if (!reply) return;
      const body: unknown = mistakes.parseBeforeLookup ? JSON.parse(reply.content.toString('utf8')) : undefined;
      const call = take(reply.properties.correlationId);
      if (!call) {
        if (mistakes.throwOnStrayReply) throw new Error(`no call waiting for correlation id ${reply.properties.correlationId}`);
        return;
      }
      if (!mistakes.timerNotCleared) clearTimeout(call.timer);
      let parsed: unknown;
      try {
        parsed = mistakes.parseBeforeLookup ? body : JSON.parse(reply.content.toString('utf8'));
      } catch {
        return call.reject(new Error('the reply is not valid JSON'));
      }
      if (reply.properties.headers?.[ERROR_HEADER] && !mistakes.ignoreErrorHeader) call.reject(new Error(String((parsed as { error: unknown }).error)));
      else call.resolve(parsed);
    };
    const consumerTags: string[] = [];
    const listen = async (): Promise<string> => {
      const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
      consumerTags.push((await channel.consume(queue, onReply, { noAck: true })).consumerTag);
      return queue;
    };
    const sharedQueue = mistakes.replyQueuePerCall ? undefined : await listen();

    return {
      async call(queue, request) {
        const replyTo = sharedQueue ?? (await listen());
        const correlationId = randomUUID();
        const expiration = mistakes.noExpiration ? {} : { expiration: String(timeoutMs) };
        channel.sendToQueue(queue, Buffer.from(JSON.stringify(request)), { replyTo, correlationId, contentType: JSON_TYPE, ...expiration });
        return new Promise<unknown>((resolve, reject) => {
          const call: PendingCall = { resolve, reject };
          if (!mistakes.noTimeout) {
            call.timer = setTimeout(() => {
              if (!pending.has(correlationId)) return;
              if (!mistakes.timeoutKeepsPending) pending.delete(correlationId);
              reject(new RpcTimeoutError(queue, timeoutMs));
            }, timeoutMs);
          }
          pending.set(correlationId, call);
        });
      },
      async close() {
        if (!mistakes.closeForgetsWaiting) {
          for (const call of pending.values()) {
            clearTimeout(call.timer);
            call.reject(new Error('the RPC client was closed'));
          }
          pending.clear();
        }
        if (!mistakes.closeKeepsConsumer) for (const tag of consumerTags) await channel.cancel(tag).catch(() => {});
      },
    };
  };
}

interface ServerMistakes {
  /** Replies go to `<queue>.replies` (which nobody declared) instead of the request's reply_to. */
  fixedReplyQueue?: boolean;
  /** The handler gets the body as a string, not parsed. */
  unparsed?: boolean;
  /** Buffer.from(JSON.stringify(result)), without `?? null`: a handler that returns nothing fails. */
  undefinedNotNull?: boolean;
  /** A handler that throws gets no reply at all (but its request is acked). */
  silentOnError?: boolean;
  /** The error reply is {error} without the x-rpc-error header. */
  errorWithoutHeader?: boolean;
  /** The error reply is sent, but the failed request is never acked. */
  noAckOnError?: boolean;
  /** work, ack, then reply. */
  ackBeforeReply?: boolean;
  /** The requests are consumed with noAck: true. */
  noAck?: boolean;
}

function serveWith(mistakes: ServerMistakes): RpcLayer['serve'] {
  return async (channel: Channel, queue: string, handler: RpcHandler): Promise<ConsumerHandle> => {
    const inFlight = new Set<Promise<void>>();
    const ack = (request: ConsumeMessage) => {
      if (!mistakes.noAck) channel.ack(request);
    };
    const answer = async (request: ConsumeMessage) => {
      const { replyTo, correlationId } = request.properties;
      if (!replyTo) return ack(request);
      let content: Buffer | undefined;
      let headers = {};
      let failed = false;
      try {
        const body = request.content.toString('utf8');
        const result = await handler(mistakes.unparsed ? body : JSON.parse(body));
        content = Buffer.from(mistakes.undefinedNotNull ? (JSON.stringify(result) as string) : JSON.stringify(result ?? null));
      } catch (error) {
        failed = true;
        if (!mistakes.silentOnError) {
          content = Buffer.from(JSON.stringify({ error: describeError(error) }));
          headers = mistakes.errorWithoutHeader ? {} : { [ERROR_HEADER]: true };
        }
      }
      try {
        if (mistakes.ackBeforeReply) ack(request);
        if (content) channel.sendToQueue(mistakes.fixedReplyQueue ? `${queue}.replies` : replyTo, content, { correlationId, contentType: JSON_TYPE, headers });
        if (!mistakes.ackBeforeReply && !(failed && mistakes.noAckOnError)) ack(request);
      } catch (error) {
        if (!(error instanceof IllegalOperationError)) throw error;
      }
    };
    const { consumerTag } = await channel.consume(queue, (request) => {
      if (!request) return;
      const answered = answer(request).finally(() => inFlight.delete(answered));
      inFlight.add(answered);
    }, { noAck: Boolean(mistakes.noAck) });
    return handleOf(channel, consumerTag, () => [...inFlight]);
  };
}

/** The ConsumerHandle of a server: stop() cancels the consumer, then waits for the answers in flight. */
function handleOf(channel: Channel, consumerTag: string, inFlight: () => Promise<void>[]): ConsumerHandle {
  const stop = async () => {
    await channel.cancel(consumerTag).catch(() => {});
    await Promise.all(inFlight());
  };
  return { consumerTag, inFlight: () => inFlight().length, stop };
}

const client = (mistakes: ClientMistakes): RpcLayer => ({ ...reference, createClient: clientWith(mistakes) });
const server = (mistakes: ServerMistakes): RpcLayer => ({ ...reference, serve: serveWith(mistakes) });

export const mutants = defineMutants('rpc', [
  // The client.
  { name: 'a reply settles the oldest pending call instead of the one with its correlation id', breaks: ['07.concurrent-calls', '07.stray-reply'], layer: client({ firstPendingWins: true }) },
  { name: "a reply settles its call but leaves the call's timer running", breaks: ['07.concurrent-calls'], layer: client({ timerNotCleared: true }) },
  { name: 'no timeout: a call nobody answers waits forever', breaks: ['07.timeout', '07.stray-reply'], layer: client({ noTimeout: true }) },
  { name: 'requests are sent without expiration: they wait in the queue after the caller gave up', breaks: ['07.timeout'], layer: client({ noExpiration: true }) },
  { name: 'the reply consumer throws on a reply with an unknown correlation id', breaks: ['07.stray-reply'], layer: client({ throwOnStrayReply: true }) },
  { name: 'the reply consumer parses the body before looking the call up (a stray non-JSON reply throws)', breaks: ['07.stray-reply'], layer: client({ parseBeforeLookup: true }) },
  { name: 'a call that times out is rejected but stays in the pending map', breaks: ['07.client-resources'], layer: client({ timeoutKeepsPending: true }) },
  { name: 'every call declares and consumes a reply queue of its own, never removed', breaks: ['07.client-resources'], layer: client({ replyQueuePerCall: true }) },
  { name: 'close() cancels the consumer but forgets the calls still waiting (they wait for their timeout)', breaks: ['07.client-resources'], layer: client({ closeForgetsWaiting: true }) },
  { name: 'close() rejects the waiting calls but never cancels the reply consumer', breaks: ['07.client-resources'], layer: client({ closeKeepsConsumer: true }) },
  { name: 'the client ignores the x-rpc-error header: an error reply resolves the call', breaks: ['07.remote-error'], layer: client({ ignoreErrorHeader: true }) },
  // The server.
  { name: "serve replies to a fixed queue instead of the request's reply_to", breaks: ['07.serve-replies', '07.remote-error', '07.in-the-system'], layer: server({ fixedReplyQueue: true }) },
  { name: 'serve hands the handler the JSON text instead of the parsed request', breaks: ['07.serve-replies', '07.in-the-system'], layer: server({ unparsed: true }) },
  { name: 'serve replies Buffer.from(JSON.stringify(result)): a handler that returns nothing fails', breaks: ['07.serve-replies'], layer: server({ undefinedNotNull: true }) },
  { name: 'serve acks the request, then sends the reply', breaks: ['07.reply-then-ack'], layer: server({ ackBeforeReply: true }) },
  { name: 'serve consumes the requests with noAck: true', breaks: ['07.reply-then-ack'], layer: server({ noAck: true }) },
  { name: 'serve sends no reply when the handler throws', breaks: ['07.remote-error'], layer: server({ silentOnError: true }) },
  { name: 'serve sends the error reply without the x-rpc-error header', breaks: ['07.remote-error'], layer: server({ errorWithoutHeader: true }) },
  { name: 'serve sends the error reply but never acks the failed request', breaks: ['07.remote-error'], layer: server({ noAckOnError: true }) },
]);

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
  const { consumerTag } = await channel.consume(DIRECT, (reply) => {
    if (reply) replies.emit(reply.properties.correlationId ?? '', reply);
  }, { noAck: true });
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
        channel.sendToQueue(queue, Buffer.from(JSON.stringify(request)), { replyTo: DIRECT, correlationId, contentType: JSON_TYPE, expiration: String(timeoutMs) });
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
  const { consumerTag } = await channel.consume(replyQueue, (reply) => {
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
  }, { noAck: true });
  return {
    async call(queue, request) {
      const id = randomUUID();
      const answer = new Promise<unknown>((resolve, reject) => {
        waiting[id] = ({ body, error }) => (error ? reject(error) : resolve(body));
      });
      timers.set(id, setTimeout(() => finish(id, { error: new RpcTimeoutError(queue, timeoutMs) }), timeoutMs));
      channel.sendToQueue(queue, Buffer.from(JSON.stringify(request)), { replyTo: replyQueue, correlationId: id, contentType: JSON_TYPE, expiration: String(timeoutMs) });
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
        if (reply) channel.sendToQueue(replyTo, Buffer.from(JSON.stringify(reply.body)), { correlationId, contentType: JSON_TYPE, headers: reply.failed ? { [ERROR_HEADER]: true } : {} });
        if (reply?.failed) channel.reject(request, false);
        else channel.ack(request);
      } catch {
        // the channel closed: the broker redelivers the request
      }
    })().finally(() => (current = undefined));
  });
  return handleOf(channel, consumerTag, () => (current ? [current] : []));
}

export const alternatives = defineAlternatives('rpc', [
  { name: 'direct reply-to (amq.rabbitmq.reply-to), calls waiting on an EventEmitter', layer: { ...reference, createClient: directReplyToClient } },
  { name: 'pending calls in a plain object, their timers in a map of their own', layer: { ...reference, createClient: recordClient } },
  { name: 'a server with prefetch 1 that rejects (no requeue) a request whose handler threw, after its error reply', layer: { ...reference, serve: oneAtATimeServer } },
]);
