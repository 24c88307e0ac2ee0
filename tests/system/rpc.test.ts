// Request/response over RabbitMQ: GET /orders/:id/payment asks the payment service through
// payment.rpc.queue. With payment running it answers; without it the API gives up with 504.
import { describe, expect, it } from 'vitest';
import type { Payment } from '../../solutions/services/payment/payment-store.ts';
import { getJson, postOrder, SEED_ORDER, waitForStatus } from './support/order-api.ts';
import { useSystemUnderTest } from './support/system-under-test.ts';

const RPC_TIMEOUT_MS = 500;

describe('payment status over RPC', () => {
  const sut = useSystemUnderTest('rpc');

  it('with the payment service running, GET /orders/123/payment returns the payment', async () => {
    const system = await sut.start({ config: { rpcTimeoutMs: RPC_TIMEOUT_MS } });
    expect((await postOrder(`${system.baseUrl}`, SEED_ORDER)).status).toBe(201);
    // Waiting for the end of the flow rather than 'paid', which a poll could miss.
    await waitForStatus(`${system.baseUrl}`, '123', 'completed');

    const payment = await getJson<Payment>(`${system.baseUrl}/orders/123/payment`);
    expect(payment.status).toBe(200);
    // item1 (15.00) + item2 (9.00)
    expect(payment.body).toMatchObject({ orderId: '123', status: 'paid', amount: 2400, reason: null });
    expect(payment.body.paymentId).toMatch(/^pay_/);

    // An order the order service never took is 404, as GET /orders/no-such-order is.
    const unknown = await getJson<{ error: string }>(`${system.baseUrl}/orders/no-such-order/payment`);
    expect(unknown).toEqual({ status: 404, body: { error: 'no order no-such-order' } });
    await system.stop(); // the next test runs without payment on the same vhost
  });

  it('without the payment service, it answers 504 within about 2 s', async () => {
    const system = await sut.start({
      services: ['order', 'inventory', 'shipping', 'notification', 'audit'],
      config: { rpcTimeoutMs: RPC_TIMEOUT_MS },
    });

    const started = Date.now();
    const answer = await getJson<{ error: string }>(`${system.baseUrl}/orders/123/payment`);
    const elapsedMs = Date.now() - started;

    expect(answer.status, '🚨 nobody answers the RPC: the API should time out with 504').toBe(504);
    expect(answer.body.error).toMatch(/did not answer within 500 ms/);
    expect(elapsedMs).toBeGreaterThanOrEqual(RPC_TIMEOUT_MS - 50);
    expect(elapsedMs, '🚨 the caller is not kept waiting much longer than the RPC timeout').toBeLessThan(2000);
  });
});
