// Known-wrong RPC clients: the reference client with one step done the wrong way.
import { RpcTimeoutError } from '../../../../shared/layers/07-rpc.ts';
import type { Mutant } from '../../../mutant.ts';
import { clientWith, JSON_TYPE, referenceClientSteps } from './client.ts';

export const clientMutants: Mutant<'rpc'>[] = [
  {
    name: 'a reply settles the oldest pending call instead of the one with its correlation id',
    breaks: ['07.concurrent-calls', '07.stray-reply'],
    layer: clientWith({
      take({ pending }) {
        const [oldest] = pending.entries();
        if (!oldest) return undefined;
        pending.delete(oldest[0]);
        return oldest[1];
      },
    }),
  },
  {
    name: "a reply settles its call but leaves the call's timer running",
    breaks: ['07.concurrent-calls'],
    layer: clientWith({ settle: (client, call, reply) => client.answer(call, reply) }),
  },
  {
    name: 'no timeout: a call nobody answers waits forever',
    breaks: ['07.timeout', '07.stray-reply'],
    layer: clientWith({
      wait: ({ pending }, _queue, correlationId) => new Promise((resolve, reject) => void pending.set(correlationId, { resolve, reject })),
    }),
  },
  {
    name: 'requests are sent without expiration: they wait in the queue after the caller gave up',
    breaks: ['07.timeout'],
    layer: clientWith({
      send({ channel }, queue, request, properties) {
        channel.sendToQueue(queue, Buffer.from(JSON.stringify(request)), { ...properties, contentType: JSON_TYPE });
      },
    }),
  },
  {
    name: 'the reply consumer throws on a reply with an unknown correlation id',
    breaks: ['07.stray-reply'],
    layer: clientWith({
      receive(client, reply) {
        if (reply && !client.pending.has(reply.properties.correlationId))
          throw new Error(`no call waiting for correlation id ${reply.properties.correlationId}`);
        referenceClientSteps.receive(client, reply);
      },
    }),
  },
  {
    name: 'the reply consumer parses the body before looking the call up (a stray non-JSON reply throws)',
    breaks: ['07.stray-reply'],
    layer: clientWith({
      receive(client, reply) {
        if (reply) JSON.parse(reply.content.toString('utf8'));
        referenceClientSteps.receive(client, reply);
      },
    }),
  },
  {
    name: 'a call that times out is rejected but stays in the pending map',
    breaks: ['07.client-resources'],
    layer: clientWith({
      wait: ({ pending, timeoutMs }, queue, correlationId) =>
        new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new RpcTimeoutError(queue, timeoutMs)), timeoutMs);
          pending.set(correlationId, { resolve, reject, timer });
        }),
    }),
  },
  {
    name: 'every call declares and consumes a reply queue of its own, never removed',
    breaks: ['07.client-resources'],
    layer: clientWith({ start: async () => {}, replyTo: (client) => client.listen() }),
  },
  {
    name: 'close() cancels the consumer but forgets the calls still waiting (they wait for their timeout)',
    breaks: ['07.client-resources'],
    layer: clientWith({
      async close({ channel, consumerTags }) {
        for (const tag of consumerTags) await channel.cancel(tag).catch(() => {});
      },
    }),
  },
  {
    name: 'close() rejects the waiting calls but never cancels the reply consumer',
    breaks: ['07.client-resources'],
    layer: clientWith({
      async close({ pending }) {
        for (const call of pending.values()) {
          clearTimeout(call.timer);
          call.reject(new Error('the RPC client was closed'));
        }
        pending.clear();
      },
    }),
  },
  {
    name: 'the client ignores the x-rpc-error header: an error reply resolves the call',
    breaks: ['07.remote-error'],
    layer: clientWith({
      answer(_client, call, reply) {
        try {
          call.resolve(JSON.parse(reply.content.toString('utf8')));
        } catch {
          call.reject(new Error('the reply is not valid JSON'));
        }
      },
    }),
  },
];
