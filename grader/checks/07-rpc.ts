// Milestone 7: RPC. The learner's client is called against the reference server or a hand-written
// one (stray replies), the learner's server is driven with hand-made requests, and finally both run
// inside the order system behind GET /orders/:id/payment.
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { ExerciseNotWrittenError } from '../../shared/workshop/exercise.ts';
import type { RpcClient } from '../../shared/layers/07-rpc.ts';
import { describeError } from '../../shared/log.ts';
import { PaymentStore } from '../../solutions/services/payment/payment-store.ts';
import { CheckFailure, defineChecks, expectThat, type CheckContext } from '../check.ts';
import { waitFor } from './support.ts';

const TIMEOUT_MS = 200;

async function freshQueue(channel: Channel): Promise<string> {
  const { queue } = await channel.assertQueue(`rpc.${randomUUID().slice(0, 8)}`, { durable: false });
  return queue;
}

/**
 * A channel for the learner's code. A consume callback that throws is reported on 'handler-error'
 * (without a listener it would break the whole connection), and so is an async one that rejects.
 */
async function watchedChannel(connection: ChannelModel, onCleanup: CheckContext['onCleanup']): Promise<{ channel: Channel; thrown: unknown[] }> {
  const channel = await connection.createChannel();
  const thrown: unknown[] = [];
  channel.on('handler-error', (error: unknown) => thrown.push(error));
  channel.on('error', (error: unknown) => thrown.push(error));
  const unhandled = (error: unknown) => thrown.push(error);
  process.on('unhandledRejection', unhandled);
  onCleanup(() => void process.off('unhandledRejection', unhandled));
  return { channel, thrown };
}

type Outcome = { resolved: unknown } | { rejected: unknown } | { pending: true };

/** Waits for a call to settle, up to `ms`, and says how it ended; the starter's 🚨 propagates. */
async function settle(call: Promise<unknown>, ms: number): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    call.then((resolved): Outcome => ({ resolved }), (rejected: unknown): Outcome => ({ rejected })),
    new Promise<Outcome>((resolve) => (timer = setTimeout(() => resolve({ pending: true }), ms))),
  ]);
  clearTimeout(timer); // a timer left running would keep the grader alive after the last check
  if ('rejected' in outcome && outcome.rejected instanceof ExerciseNotWrittenError) throw outcome.rejected;
  return outcome;
}

function describeOutcome(outcome: Outcome): string {
  if ('resolved' in outcome) return `it resolved with ${JSON.stringify(outcome.resolved)}`;
  if ('rejected' in outcome) {
    const error = outcome.rejected;
    return `it rejected with ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
  }
  return 'it was still waiting';
}

/** Reads one message from a queue, polling. */
function replyIn(channel: Channel, queue: string, expected: string, seen: () => string): Promise<ConsumeMessage> {
  return waitFor(async () => ((await channel.get(queue, { noAck: true })) || undefined) as ConsumeMessage | undefined, expected, seen, 2000);
}

export const checks = defineChecks('rpc', [
  {
    id: '07.concurrent-calls',
    name: '50 concurrent calls each get their own answer',
    hint: 'Give every call a fresh correlationId, keep the pending calls in a Map by that id, and settle the one whose id the reply carries.',
    async run({ layer, reference, connect, onCleanup }) {
      const connection = await connect();
      const { channel, thrown } = await watchedChannel(connection, onCleanup);
      const queue = await freshQueue(channel);
      // Answers take 0–10 ms each, so the replies come back in another order than the calls went out.
      await reference.rpc.serve(await connection.createChannel(), queue, async (request) => {
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10));
        return { doubled: (request as { n: number }).n * 2 };
      });
      const client = await layer.createClient(channel, { timeoutMs: 3000 });
      onCleanup(() => client.close());

      const outcomes = await Promise.all(Array.from({ length: 50 }, (_, n) => settle(client.call(queue, { n }), 3000)));
      const wrong = outcomes
        .map((outcome, n) => ({ n, outcome }))
        .filter(({ n, outcome }) => !('resolved' in outcome && isDeepStrictEqual(outcome.resolved, { doubled: n * 2 })));
      expectThat(
        wrong.length === 0,
        'call n ({"n": n}) to resolve with {"doubled": 2n}, for each of the 50',
        () => `${wrong.length} wrong, e.g. ${wrong.slice(0, 3).map(({ n, outcome }) => `call ${n}: ${describeOutcome(outcome)}`).join('; ')}`,
      );
      expectThat(thrown.length === 0, 'no errors on the client channel', () => `your code threw: ${describeError(thrown[0])}`);
    },
  },
  {
    id: '07.timeout',
    name: `a call nobody answers fails with RpcTimeoutError after its timeout (${TIMEOUT_MS} ms), not much later, and its request expires`,
    hint: "Start a setTimeout per call that deletes the pending entry and rejects with new RpcTimeoutError(queue, timeoutMs); publish the request with expiration: String(timeoutMs).",
    async run({ layer, connect, onCleanup }) {
      const connection = await connect();
      const { channel } = await watchedChannel(connection, onCleanup);
      const queue = await freshQueue(channel); // nobody consumes it
      const client = await layer.createClient(channel, { timeoutMs: TIMEOUT_MS });
      onCleanup(() => client.close());

      const started = Date.now();
      const outcome = await settle(client.call(queue, { orderId: 'nobody-home' }), TIMEOUT_MS + 1500);
      const elapsed = Date.now() - started;
      const error = 'rejected' in outcome ? outcome.rejected : undefined;
      expectThat(error instanceof Error && error.name === 'RpcTimeoutError', `the call to reject with RpcTimeoutError after ${TIMEOUT_MS} ms`, () => `${describeOutcome(outcome)} after ${elapsed} ms`);
      expectThat(elapsed >= TIMEOUT_MS - 20, `the call to wait its ${TIMEOUT_MS} ms`, `it gave up after ${elapsed} ms`);
      expectThat(elapsed <= TIMEOUT_MS + 500, `the call to give up soon after ${TIMEOUT_MS} ms`, `it took ${elapsed} ms`);

      // The caller has given up: a server that comes late should not find the request and work for nobody.
      const check = await connection.createChannel();
      await waitFor(
        async () => ((await check.checkQueue(queue)).messageCount === 0 ? true : undefined),
        `the request to expire from ${queue} with the call's timeout`,
        () => 'it is still in the queue: publish the request with expiration: String(timeoutMs)',
        1000,
      );
    },
  },
  {
    id: '07.stray-reply',
    name: 'a reply with an unknown correlation id is ignored, and the real replies still arrive',
    hint: "In the reply consumer, look the correlation id up in your pending map; when nothing is there, just return. Don't throw: an exception in a consume callback breaks the connection.",
    async run({ layer, connect, onCleanup }) {
      const connection = await connect();
      const { channel, thrown } = await watchedChannel(connection, onCleanup);
      const queue = await freshQueue(channel);
      // A hand-written server that answers every request twice: first with a stranger's correlation id.
      const server = await connection.createChannel();
      await server.consume(queue, (request) => {
        if (!request) return;
        const { replyTo, correlationId } = request.properties;
        server.sendToQueue(replyTo, Buffer.from('"not for you"'), { correlationId: randomUUID(), contentType: 'application/json' });
        server.sendToQueue(replyTo, Buffer.from('"yours"'), { correlationId, contentType: 'application/json' });
        server.ack(request);
      });
      const client = await layer.createClient(channel, { timeoutMs: 1500 });
      onCleanup(() => client.close());

      for (const which of ['first', 'second']) {
        const outcome = await settle(client.call(queue, { which }), 2000);
        expectThat(thrown.length === 0, 'the stray reply to be ignored', () => `your reply consumer threw: ${describeError(thrown[0])}`);
        expectThat('resolved' in outcome && outcome.resolved === 'yours', `the ${which} call to resolve with its own reply "yours"`, describeOutcome(outcome));
      }
    },
  },
  {
    id: '07.serve-replies',
    name: 'serve answers a hand-made request on its reply_to queue with the same correlation id, then acks it',
    hint: "Reply with channel.sendToQueue(request.properties.replyTo, body, { correlationId: request.properties.correlationId }), then channel.ack(request).",
    async run({ layer, connect }) {
      const connection = await connect();
      const channel = await connection.createChannel();
      const queue = await freshQueue(channel);
      const serverChannel = await connection.createChannel();
      serverChannel.on('error', () => {});
      const server = await layer.serve(serverChannel, queue, async (request) => ({ orderId: (request as { orderId: string }).orderId, status: 'paid' }));

      // Two callers, each with its own reply queue: each answer must go to the one that asked.
      const callers = [];
      for (const orderId of ['A-1', 'B-2']) {
        const { queue: replyTo } = await channel.assertQueue('', { exclusive: true });
        const correlationId = `corr-${orderId}`;
        channel.sendToQueue(queue, Buffer.from(JSON.stringify({ orderId })), { replyTo, correlationId, contentType: 'application/json' });
        callers.push({ orderId, replyTo, correlationId });
      }
      for (const { orderId, replyTo, correlationId } of callers) {
        const reply = await replyIn(channel, replyTo, `a reply in ${replyTo} (the request's reply_to)`, () => 'nothing arrived there');
        expectThat(reply.properties.correlationId === correlationId, `correlation id "${correlationId}" on the reply`, `"${reply.properties.correlationId}"`);
        let body: unknown;
        try {
          body = JSON.parse(reply.content.toString('utf8'));
        } catch {
          throw new CheckFailure('a JSON reply body', `"${reply.content.toString('utf8').slice(0, 80)}"`);
        }
        expectThat(isDeepStrictEqual(body, { orderId, status: 'paid' }), `the handler's result {"orderId":"${orderId}","status":"paid"} as the reply`, JSON.stringify(body));
      }

      await server.stop();
      await serverChannel.close().catch(() => {}); // anything still unacked goes back to the queue
      const { messageCount } = await channel.checkQueue(queue);
      expectThat(messageCount === 0, 'both requests acked after their replies', `${messageCount} request(s) back in the queue: they were never acked`);
    },
  },
  {
    id: '07.remote-error',
    name: "a handler that throws makes the call reject with the handler's message",
    hint: 'In serve, catch the handler error and reply { error: message } with the x-rpc-error header; in the client, reject the call with new Error(body.error) when the header is set.',
    async run({ layer, connect, onCleanup }) {
      const connection = await connect();
      const { channel, thrown } = await watchedChannel(connection, onCleanup);
      const queue = await freshQueue(channel);
      await layer.serve(await connection.createChannel(), queue, async () => {
        throw new Error('order 42 is unknown');
      });
      const client = await layer.createClient(channel, { timeoutMs: 1500 });
      onCleanup(() => client.close());

      const outcome = await settle(client.call(queue, { orderId: '42' }), 2000);
      const error = 'rejected' in outcome ? outcome.rejected : undefined;
      expectThat(
        error instanceof Error && error.name !== 'RpcTimeoutError' && error.message.includes('order 42 is unknown'),
        'the call to reject with the message "order 42 is unknown"',
        () => (error instanceof Error && error.name === 'RpcTimeoutError' ? 'it timed out: no reply came back' : describeOutcome(outcome)),
      );
      expectThat(thrown.length === 0, 'no errors on the client channel', () => `your code threw: ${describeError(thrown[0])}`);
    },
  },
  {
    id: '07.in-the-system',
    name: 'with your RPC in the order system, GET /orders/:id/payment answers from the payment service',
    hint: 'Both sides are yours here: the order service calls with your client, the payment service answers with your serve.',
    timeoutMs: 8000,
    async run({ layer, connect, startSystem }) {
      // A round trip with your layer alone first: a missing piece shows here, not as a hung service.
      const connection = await connect();
      const probe = await connection.createChannel();
      const queue = await freshQueue(probe);
      const server = await layer.serve(await connection.createChannel(), queue, async () => 'pong');
      const client: RpcClient = await layer.createClient(await connection.createChannel(), { timeoutMs: 1000 });
      const pong = await settle(client.call(queue, 'ping'), 1500);
      expectThat('resolved' in pong && pong.resolved === 'pong', 'a round trip with your client and server', describeOutcome(pong));
      await client.close();
      await server.stop();

      const system = await startSystem({ services: ['order', 'payment'] });
      new PaymentStore(system.runtime('payment').db).insert({ orderId: 'rpc-7', paymentId: 'pay_rpc7', amount: 2400, status: 'paid', reason: null });
      for (const [orderId, wanted] of [
        ['rpc-7', { orderId: 'rpc-7', paymentId: 'pay_rpc7', amount: 2400, status: 'paid', reason: null }],
        ['no-such-order', { orderId: 'no-such-order', status: 'unknown' }],
      ] as const) {
        const response = await fetch(`${system.baseUrl}/orders/${orderId}/payment`);
        const body = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
        expectThat(response.status === 200, `GET /orders/${orderId}/payment to answer 200`, `${response.status} ${JSON.stringify(body)}`);
        const { createdAt: _createdAt, ...answer } = body ?? {};
        expectThat(isDeepStrictEqual(answer, wanted), `the payment service's answer ${JSON.stringify(wanted)}`, JSON.stringify(body));
      }
    },
  },
]);
