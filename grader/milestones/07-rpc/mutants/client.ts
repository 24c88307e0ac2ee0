// The reference's RPC client (solutions/layers/07-rpc.ts) written as named steps, so a known-wrong
// client is the reference with one step done the wrong way: `clientWith({ take })`. Each step gets
// the client it works for and reaches the other steps through it.
import { randomUUID } from 'node:crypto';
import type { Channel, ConsumeMessage } from 'amqplib';
import { type RpcLayer, RpcTimeoutError } from '../../../../shared/layers/07-rpc.ts';
import { rpc as reference } from '../../../../solutions/layers/07-rpc.ts';

export const ERROR_HEADER = 'x-rpc-error';
export const JSON_TYPE = 'application/json';

export interface PendingCall {
  resolve(reply: unknown): void;
  reject(error: Error): void;
  timer?: NodeJS.Timeout;
}

/** One client: its channel, the calls waiting by correlation id, its reply consumers, and its steps. */
export interface Client {
  channel: Channel;
  timeoutMs: number;
  pending: Map<string, PendingCall>;
  /** The reply consumers started, for close() to cancel. */
  consumerTags: string[];
  /** The reply queue of every call, once start has declared it. */
  replyQueue: string;
  listen(): Promise<string>;
  receive(reply: ConsumeMessage | null): void;
  take(correlationId: string): PendingCall | undefined;
  settle(call: PendingCall, reply: ConsumeMessage): void;
  answer(call: PendingCall, reply: ConsumeMessage): void;
  replyTo(): Promise<string>;
  send(queue: string, request: unknown, properties: { replyTo: string; correlationId: string }): void;
  wait(queue: string, correlationId: string): Promise<unknown>;
}

export interface ClientSteps {
  /** At creation: declares the reply queue all calls share. */
  start(client: Client): Promise<void>;
  /** Declares a private (exclusive, auto-deleted) reply queue and consumes it with noAck; resolves to its name. */
  listen(client: Client): Promise<string>;
  /** The reply consumer's callback: settles the call waiting for this reply; any other reply is dropped. */
  receive(client: Client, reply: ConsumeMessage | null): void;
  /** Takes the call with this correlation id out of the pending calls. */
  take(client: Client, correlationId: string): PendingCall | undefined;
  /** Stops the call's timer and answers it. */
  settle(client: Client, call: PendingCall, reply: ConsumeMessage): void;
  /** Resolves the call with the reply's body, or rejects it: a reply that is not JSON, or an error reply. */
  answer(client: Client, call: PendingCall, reply: ConsumeMessage): void;
  /** The reply queue a call names. */
  replyTo(client: Client): Promise<string>;
  /** Sends the request as JSON, with replyTo, correlationId and an expiration of the timeout. */
  send(client: Client, queue: string, request: unknown, properties: { replyTo: string; correlationId: string }): void;
  /** Waits for the call's reply; after timeoutMs, takes the call out of pending and rejects it. */
  wait(client: Client, queue: string, correlationId: string): Promise<unknown>;
  /** Rejects the calls still waiting, then cancels the reply consumers. */
  close(client: Client): Promise<void>;
}

export const referenceClientSteps: ClientSteps = {
  async start(client) {
    client.replyQueue = await client.listen();
  },
  async listen(client) {
    const { queue } = await client.channel.assertQueue('', { exclusive: true, autoDelete: true });
    client.consumerTags.push((await client.channel.consume(queue, (reply) => client.receive(reply), { noAck: true })).consumerTag);
    return queue;
  },
  receive(client, reply) {
    if (!reply) return;
    const call = client.take(reply.properties.correlationId);
    if (call) client.settle(call, reply);
  },
  take({ pending }, correlationId) {
    const call = pending.get(correlationId);
    pending.delete(correlationId);
    return call;
  },
  settle(client, call, reply) {
    clearTimeout(call.timer);
    client.answer(call, reply);
  },
  answer(_client, call, reply) {
    let body: unknown;
    try {
      body = JSON.parse(reply.content.toString('utf8'));
    } catch {
      return call.reject(new Error('the reply is not valid JSON'));
    }
    if (reply.properties.headers?.[ERROR_HEADER]) call.reject(new Error(String((body as { error: unknown }).error)));
    else call.resolve(body);
  },
  replyTo: async ({ replyQueue }) => replyQueue,
  send({ channel, timeoutMs }, queue, request, properties) {
    channel.sendToQueue(queue, Buffer.from(JSON.stringify(request)), {
      ...properties,
      contentType: JSON_TYPE,
      expiration: String(timeoutMs),
    });
  },
  wait({ pending, timeoutMs }, queue, correlationId) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!pending.delete(correlationId)) return;
        reject(new RpcTimeoutError(queue, timeoutMs));
      }, timeoutMs);
      pending.set(correlationId, { resolve, reject, timer });
    });
  },
  async close({ channel, pending, consumerTags }) {
    for (const call of pending.values()) {
      clearTimeout(call.timer);
      call.reject(new Error('the RPC client was closed'));
    }
    pending.clear();
    for (const tag of consumerTags) await channel.cancel(tag).catch(() => {});
  },
};

/** The reference layer whose client has `edit`'s steps in place of the reference's. */
export function clientWith(edit: Partial<ClientSteps>): RpcLayer {
  const steps: ClientSteps = { ...referenceClientSteps, ...edit };
  return {
    ...reference,
    async createClient(channel, { timeoutMs }) {
      const client: Client = {
        channel,
        timeoutMs,
        pending: new Map(),
        consumerTags: [],
        replyQueue: '',
        listen: () => steps.listen(client),
        receive: (reply) => steps.receive(client, reply),
        take: (correlationId) => steps.take(client, correlationId),
        settle: (call, reply) => steps.settle(client, call, reply),
        answer: (call, reply) => steps.answer(client, call, reply),
        replyTo: () => steps.replyTo(client),
        send: (queue, request, properties) => steps.send(client, queue, request, properties),
        wait: (queue, correlationId) => steps.wait(client, queue, correlationId),
      };
      await steps.start(client);
      return {
        async call(queue, request) {
          const replyTo = await client.replyTo();
          const correlationId = randomUUID();
          client.send(queue, request, { replyTo, correlationId });
          return client.wait(queue, correlationId);
        },
        close: () => steps.close(client),
      };
    },
  };
}
