// Known-wrong RPC servers: the reference's serve with one step done the wrong way.
import { IllegalOperationError } from 'amqplib';
import type { Mutant } from '../../../mutant.ts';
import { ERROR_HEADER, JSON_TYPE } from './client.ts';
import { bodyOf, referenceServerSteps, replying, serverWith } from './server.ts';

export const serverMutants: Mutant<'rpc'>[] = [
  {
    name: "serve replies to a fixed queue instead of the request's reply_to",
    breaks: ['07.serve-replies', '07.remote-error', '07.in-the-system'],
    layer: serverWith({
      send({ channel, queue }, request, { content, failed }) {
        const headers = failed ? { [ERROR_HEADER]: true } : {};
        channel.sendToQueue(`${queue}.replies`, content, {
          correlationId: request.properties.correlationId,
          contentType: JSON_TYPE,
          headers,
        });
      },
    }),
  },
  {
    name: 'serve hands the handler the JSON text instead of the parsed request',
    breaks: ['07.serve-replies', '07.in-the-system'],
    layer: serverWith({
      reply: ({ handler }, request) => replying(async () => Buffer.from(JSON.stringify((await handler(bodyOf(request))) ?? null))),
    }),
  },
  {
    name: 'serve replies Buffer.from(JSON.stringify(result)): a handler that returns nothing fails',
    breaks: ['07.serve-replies'],
    layer: serverWith({
      reply: ({ handler }, request) =>
        replying(async () => Buffer.from(JSON.stringify(await handler(JSON.parse(bodyOf(request)))) as string)),
    }),
  },
  {
    name: 'serve acks the request, then sends the reply',
    breaks: ['07.reply-then-ack'],
    layer: serverWith({
      async answer(server, request) {
        const reply = request.properties.replyTo ? await server.reply(request) : undefined;
        try {
          server.ack(request);
          if (reply) server.send(request, reply);
        } catch (error) {
          if (!(error instanceof IllegalOperationError)) throw error;
        }
      },
    }),
  },
  {
    name: 'serve consumes the requests with noAck: true',
    breaks: ['07.reply-then-ack'],
    layer: serverWith({
      start: async ({ channel, queue }, onRequest) => (await channel.consume(queue, onRequest, { noAck: true })).consumerTag,
      ack() {}, // with noAck there is nothing to ack
    }),
  },
  {
    name: 'serve sends no reply when the handler throws',
    breaks: ['07.remote-error'],
    layer: serverWith({
      async reply(server, request) {
        const reply = await referenceServerSteps.reply(server, request);
        return reply?.failed ? undefined : reply;
      },
    }),
  },
  {
    name: 'serve sends the error reply without the x-rpc-error header',
    breaks: ['07.remote-error'],
    layer: serverWith({
      send({ channel }, request, { content }) {
        const { replyTo, correlationId } = request.properties;
        channel.sendToQueue(replyTo, content, { correlationId, contentType: JSON_TYPE, headers: {} });
      },
    }),
  },
  {
    name: 'serve sends the error reply but never acks the failed request',
    breaks: ['07.remote-error'],
    layer: serverWith({
      async answer(server, request) {
        const reply = request.properties.replyTo ? await server.reply(request) : undefined;
        try {
          if (reply) server.send(request, reply);
          if (!reply?.failed) server.ack(request);
        } catch (error) {
          if (!(error instanceof IllegalOperationError)) throw error;
        }
      },
    }),
  },
];
