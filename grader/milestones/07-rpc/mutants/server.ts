// The reference's RPC server (serve in solutions/layers/07-rpc.ts) written as named steps, so a
// known-wrong server is the reference with one step done the wrong way: `serverWith({ send })`.
import { type Channel, type ConsumeMessage, IllegalOperationError } from 'amqplib';
import type { RpcHandler, RpcLayer, RpcServeOptions } from '../../../../shared/layers/07-rpc.ts';
import { describeError } from '../../../../shared/log.ts';
import { rpc as reference } from '../../../../solutions/layers/07-rpc.ts';
import { ERROR_HEADER, JSON_TYPE } from './client.ts';

/** What the server sends back: the handler's result as JSON, or an {error} reply. */
export interface Reply {
  content: Buffer;
  failed: boolean;
}

/** One server: its channel, queue and handler, the answers in progress, and its steps. */
export interface Server extends RpcServeOptions {
  channel: Channel;
  queue: string;
  handler: RpcHandler;
  inFlight: Set<Promise<void>>;
  ack(request: ConsumeMessage): void;
  reply(request: ConsumeMessage): Promise<Reply | undefined>;
  send(request: ConsumeMessage, reply: Reply): void;
}

export interface ServerSteps {
  /** Consumes the requests with manual acks; resolves to the consumer tag. */
  start(server: Server, onRequest: (request: ConsumeMessage | null) => void): Promise<string>;
  ack(server: Server, request: ConsumeMessage): void;
  /** Runs the handler on the parsed request: the reply to send, or none. */
  reply(server: Server, request: ConsumeMessage): Promise<Reply | undefined>;
  /** Sends the reply to the request's reply_to, with its correlation id (and x-rpc-error on an error reply). */
  send(server: Server, request: ConsumeMessage, reply: Reply): void;
  /** Works out the reply, sends it, then acks the request; a request without reply_to is only acked. */
  answer(server: Server, request: ConsumeMessage): Promise<void>;
}

/** `work`'s content as the reply, or an {error} reply when it throws. */
export async function replying(work: () => Promise<Buffer>): Promise<Reply> {
  try {
    return { content: await work(), failed: false };
  } catch (error) {
    return { content: Buffer.from(JSON.stringify({ error: describeError(error) })), failed: true };
  }
}

/** The request's body, as text. */
export const bodyOf = (request: ConsumeMessage) => request.content.toString('utf8');

export const referenceServerSteps: ServerSteps = {
  start: async ({ channel, queue }, onRequest) => (await channel.consume(queue, onRequest, { noAck: false })).consumerTag,
  ack: ({ channel }, request) => channel.ack(request),
  reply: ({ handler }, request) => replying(async () => Buffer.from(JSON.stringify((await handler(JSON.parse(bodyOf(request)))) ?? null))),
  send({ channel }, request, { content, failed }) {
    const { replyTo, correlationId } = request.properties;
    channel.sendToQueue(replyTo, content, { correlationId, contentType: JSON_TYPE, headers: failed ? { [ERROR_HEADER]: true } : {} });
  },
  async answer(server, request) {
    const reply = request.properties.replyTo ? await server.reply(request) : undefined;
    try {
      if (reply) server.send(request, reply);
      server.ack(request);
    } catch (error) {
      if (!(error instanceof IllegalOperationError)) throw error; // channel closed: the request is redelivered
    }
  },
};

/** The reference layer whose serve has `edit`'s steps in place of the reference's. */
export function serverWith(edit: Partial<ServerSteps>): RpcLayer {
  const steps: ServerSteps = { ...referenceServerSteps, ...edit };
  return {
    ...reference,
    async serve(channel, queue, handler, options = {}) {
      const server: Server = {
        ...options,
        channel,
        queue,
        handler,
        inFlight: new Set(),
        ack: (request) => steps.ack(server, request),
        reply: (request) => steps.reply(server, request),
        send: (request, reply) => steps.send(server, request, reply),
      };
      const consumerTag = await steps.start(server, (request) => {
        if (request === null) return server.onCancelled?.();
        const answered = steps.answer(server, request).finally(() => server.inFlight.delete(answered));
        server.inFlight.add(answered);
      });
      return {
        consumerTag,
        inFlight: () => server.inFlight.size,
        async stop() {
          await channel.cancel(consumerTag).catch(() => {});
          await Promise.all(server.inFlight);
        },
      };
    },
  };
}
