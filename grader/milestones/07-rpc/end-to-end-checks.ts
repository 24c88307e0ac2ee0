// Milestone 7's checks with both sides at work: a handler error travels from the server to the
// caller, and the learner's RPC answers GET /orders/:id/payment inside the order system.
import { isDeepStrictEqual } from 'node:util';
import type { RpcClient } from '../../../shared/layers/07-rpc.ts';
import { describeError } from '../../../shared/log.ts';
import { OrderStore } from '../../../solutions/services/order/order-store.ts';
import { PaymentStore } from '../../../solutions/services/payment/payment-store.ts';
import { type Check, expectThat } from '../../check.ts';
import { describeOutcome, freshQueue, isTimeout, type Outcome, settle, watchedChannel } from './support.ts';

/** The call rejected with the handler's message; `hintWhenResolved` says what to do when it resolved instead. */
function expectRemoteError(outcome: Outcome, who: string, hintWhenResolved: string): void {
  const error = 'rejected' in outcome ? outcome.rejected : undefined;
  const timeoutHint = isTimeout(error)
    ? 'When the handler throws, send an error reply: the caller should not wait for its timeout.'
    : undefined;
  expectThat(
    error instanceof Error && !isTimeout(error) && error.message.includes('order 42 is unknown'),
    `${who}: the call to reject with the message "order 42 is unknown"`,
    () => (isTimeout(error) ? 'it timed out: no reply came back' : describeOutcome(outcome)),
    'resolved' in outcome ? hintWhenResolved : timeoutHint,
  );
}

/** The request whose handler threw, handled `failures` times, with `messageCount` back in its queue: settled once. */
function expectSettledOnce(messageCount: number, failures: number): void {
  const how = failures > 1 ? 'requeued' : 'never acked';
  expectThat(
    messageCount === 0 && failures === 1,
    'the request whose handler threw settled once, after its error reply',
    messageCount > 0 ? `it is back in the queue (handled ${failures} time(s)): it was ${how}` : `it was handled ${failures} times`,
    failures > 1
      ? 'A request whose handler threw would fail again: ack it after the error reply, do not requeue it.'
      : 'Ack the request after its error reply, as after any reply.',
  );
}

export const remoteError: Check<'rpc'> = {
  id: '07.remote-error',
  name: "a handler that throws makes the call reject with the handler's message, its request is settled once, and the server keeps serving",
  hint: 'In serve, catch the handler error and reply { error: message } with the x-rpc-error header, then ack; in the client, reject the call with new Error(body.error) when the header is set.',
  async run({ layer, reference, connect, onCleanup }) {
    const connection = await connect();
    const { channel, thrown } = await watchedChannel(connection, onCleanup);

    // Your server, the reference client.
    const queue = await freshQueue(channel);
    let failures = 0;
    const serverChannel = await connection.createChannel();
    const server = await layer.serve(serverChannel, queue, async (request) => {
      const { orderId } = (request ?? {}) as { orderId?: string };
      if (orderId === '42') {
        failures++;
        throw new Error('order 42 is unknown');
      }
      return { orderId, status: 'paid' };
    });
    const referenceClient = await reference.rpc.createClient(await connection.createChannel(), { timeoutMs: 1500 });
    onCleanup(() => referenceClient.close());
    expectRemoteError(
      await settle(referenceClient.call(queue, { orderId: '42' }), 2000),
      'your server',
      'Mark the error reply with the header x-rpc-error: true, so the caller can tell it from a result.',
    );
    const next = await settle(referenceClient.call(queue, { orderId: '43' }), 2000);
    expectThat(
      'resolved' in next && isDeepStrictEqual(next.resolved, { orderId: '43', status: 'paid' }),
      'your server to answer the next request after a handler error',
      describeOutcome(next),
    );

    // Your client, the reference server.
    const failing = await freshQueue(channel);
    await reference.rpc.serve(await connection.createChannel(), failing, async () => {
      throw new Error('order 42 is unknown');
    });
    const client = await layer.createClient(channel, { timeoutMs: 1500 });
    onCleanup(() => client.close());
    expectRemoteError(
      await settle(client.call(failing, { orderId: '42' }), 2000),
      'your client',
      'A reply with the x-rpc-error header is an error: reject the call with new Error(body.error).',
    );
    expectThat(thrown.length === 0, 'no errors on the client channel', () => `your code threw: ${describeError(thrown[0])}`);

    // The failed request was settled once: nothing comes back when the server's channel closes.
    await server.stop();
    await serverChannel.close().catch(() => {});
    const { messageCount } = await channel.checkQueue(queue);
    expectSettledOnce(messageCount, failures);
  },
};

export const inTheSystem: Check<'rpc'> = {
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
    // Two orders the order service took; the payment service has charged one of them.
    const orders = new OrderStore(system.runtime('order').db);
    for (const orderId of ['rpc-7', 'rpc-8'])
      orders.insert({ orderId, user: 'gayal', items: [{ sku: 'item1', quantity: 1 }], express: false });
    new PaymentStore(system.runtime('payment').db).insert({
      orderId: 'rpc-7',
      paymentId: 'pay_rpc7',
      amount: 2400,
      status: 'paid',
      reason: null,
    });
    for (const [orderId, wanted] of [
      ['rpc-7', { orderId: 'rpc-7', paymentId: 'pay_rpc7', amount: 2400, status: 'paid', reason: null }],
      ['rpc-8', { orderId: 'rpc-8', status: 'unknown' }],
    ] as const) {
      const response = await fetch(`${system.baseUrl}/orders/${orderId}/payment`);
      const body = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
      expectThat(response.status === 200, `GET /orders/${orderId}/payment to answer 200`, `${response.status} ${JSON.stringify(body)}`);
      const { createdAt: _createdAt, ...answer } = body ?? {};
      expectThat(isDeepStrictEqual(answer, wanted), `the payment service's answer ${JSON.stringify(wanted)}`, JSON.stringify(body));
    }
  },
};
