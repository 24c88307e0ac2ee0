// Known-wrong RPC layers for milestone 7: the reference client and server, each with one classic
// mistake switched on.
import { randomUUID } from 'node:crypto';
import type { Channel, ConsumeMessage } from 'amqplib';
import type { ConsumerHandle } from '../../shared/layers/05-acks-prefetch.ts';
import { type RpcClient, type RpcHandler, type RpcLayer, RpcTimeoutError } from '../../shared/layers/07-rpc.ts';
import { describeError } from '../../shared/log.ts';
import { rpc as reference } from '../../solutions/layers/07-rpc.ts';
import { defineMutants } from './mutant.ts';

const ERROR_HEADER = 'x-rpc-error';

interface ClientMistakes {
  /** A reply settles the oldest pending call, whatever its correlation id. */
  firstPendingWins?: boolean;
  noTimeout?: boolean;
  throwOnStrayReply?: boolean;
  noExpiration?: boolean;
}

interface PendingCall {
  resolve(reply: unknown): void;
  reject(error: Error): void;
  timer?: NodeJS.Timeout;
}

function clientWith(mistakes: ClientMistakes): RpcLayer['createClient'] {
  return async (channel: Channel, { timeoutMs }: { timeoutMs: number }): Promise<RpcClient> => {
    const { queue: replyQueue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
    const pending = new Map<string, PendingCall>();
    const take = (correlationId: string): PendingCall | undefined => {
      const id = mistakes.firstPendingWins ? pending.keys().next().value : correlationId;
      const call = id === undefined ? undefined : pending.get(id);
      if (call && id !== undefined) pending.delete(id);
      return call;
    };
    const { consumerTag } = await channel.consume(replyQueue, (reply: ConsumeMessage | null) => {
      if (!reply) return;
      const call = take(reply.properties.correlationId);
      if (!call) {
        if (mistakes.throwOnStrayReply) throw new Error(`no call waiting for correlation id ${reply.properties.correlationId}`);
        return;
      }
      clearTimeout(call.timer);
      const body: unknown = JSON.parse(reply.content.toString('utf8'));
      if (reply.properties.headers?.[ERROR_HEADER]) call.reject(new Error(String((body as { error: unknown }).error)));
      else call.resolve(body);
    }, { noAck: true });

    return {
      async call(queue, request) {
        const correlationId = randomUUID();
        const expiration = mistakes.noExpiration ? {} : { expiration: String(timeoutMs) };
        channel.sendToQueue(queue, Buffer.from(JSON.stringify(request)), { replyTo: replyQueue, correlationId, contentType: 'application/json', ...expiration });
        return new Promise<unknown>((resolve, reject) => {
          const call: PendingCall = { resolve, reject };
          if (!mistakes.noTimeout) {
            call.timer = setTimeout(() => {
              if (pending.delete(correlationId)) reject(new RpcTimeoutError(queue, timeoutMs));
            }, timeoutMs);
          }
          pending.set(correlationId, call);
        });
      },
      async close() {
        for (const call of pending.values()) {
          clearTimeout(call.timer);
          call.reject(new Error('the RPC client was closed'));
        }
        pending.clear();
        await channel.cancel(consumerTag).catch(() => {});
      },
    };
  };
}

interface ServerMistakes {
  /** Replies go to `<queue>.replies` (which nobody declared) instead of the request's reply_to. */
  fixedReplyQueue?: boolean;
  /** A handler that throws gets no reply at all. */
  silentOnError?: boolean;
  /** The handler gets the body as a string, not parsed. */
  unparsed?: boolean;
}

function serveWith(mistakes: ServerMistakes): RpcLayer['serve'] {
  return async (channel: Channel, queue: string, handler: RpcHandler): Promise<ConsumerHandle> => {
    const inFlight = new Set<Promise<void>>();
    const answer = async (request: ConsumeMessage) => {
      const { replyTo, correlationId } = request.properties;
      let content: Buffer | undefined;
      let headers = {};
      try {
        const body = request.content.toString('utf8');
        content = Buffer.from(JSON.stringify((await handler(mistakes.unparsed ? body : JSON.parse(body))) ?? null));
      } catch (error) {
        if (!mistakes.silentOnError) {
          content = Buffer.from(JSON.stringify({ error: describeError(error) }));
          headers = { [ERROR_HEADER]: true };
        }
      }
      if (content) channel.sendToQueue(mistakes.fixedReplyQueue ? `${queue}.replies` : replyTo, content, { correlationId, contentType: 'application/json', headers });
      channel.ack(request);
    };
    const { consumerTag } = await channel.consume(queue, (request) => {
      if (!request) return;
      const answered = answer(request).finally(() => inFlight.delete(answered));
      inFlight.add(answered);
    });
    return {
      consumerTag,
      inFlight: () => inFlight.size,
      async stop() {
        await channel.cancel(consumerTag).catch(() => {});
        await Promise.all(inFlight);
      },
    };
  };
}

export const mutants = defineMutants('rpc', [
  {
    name: 'a reply settles the oldest pending call instead of the one with its correlation id',
    breaks: ['07.concurrent-calls', '07.stray-reply'],
    layer: { ...reference, createClient: clientWith({ firstPendingWins: true }) },
  },
  {
    name: 'no timeout: a call nobody answers waits forever',
    breaks: ['07.timeout'],
    layer: { ...reference, createClient: clientWith({ noTimeout: true }) },
  },
  {
    name: 'requests are sent without expiration: they wait in the queue after the caller gave up',
    breaks: ['07.timeout'],
    layer: { ...reference, createClient: clientWith({ noExpiration: true }) },
  },
  {
    name: 'the reply consumer throws on a reply with an unknown correlation id',
    breaks: ['07.stray-reply'],
    layer: { ...reference, createClient: clientWith({ throwOnStrayReply: true }) },
  },
  {
    name: "serve replies to a fixed queue instead of the request's reply_to",
    breaks: ['07.serve-replies', '07.remote-error', '07.in-the-system'],
    layer: { ...reference, serve: serveWith({ fixedReplyQueue: true }) },
  },
  {
    name: 'serve hands the handler the JSON text instead of the parsed request',
    breaks: ['07.serve-replies', '07.in-the-system'],
    layer: { ...reference, serve: serveWith({ unparsed: true }) },
  },
  {
    name: 'serve sends no reply when the handler throws',
    breaks: ['07.remote-error'],
    layer: { ...reference, serve: serveWith({ silentOnError: true }) },
  },
]);
