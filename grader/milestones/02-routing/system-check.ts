// Milestone 2's check in the running order system: with the learner's routing, the services take an
// express order placed through the HTTP API all the way to completed.
import { type Check, expectThat } from '../../check.ts';
import { callTimeout, waitFor } from '../../checks/support.ts';
import { startServices } from '../../checks/topology-support.ts';
import { bindingCause, declareRouting, ROUTED, sampleEvent } from './routing-support.ts';

interface OrderView {
  status: string;
  history: Array<{ status: string; event: string }>;
}

/** Places an order through the HTTP API and waits until it is completed; fails with where it got stuck. */
async function placeOrderAndWaitForCompletion(baseUrl: string, orderId: string, timeoutMs = 4000): Promise<OrderView> {
  const placed = await fetch(`${baseUrl}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ orderId, user: 'gayal', items: ['item1', 'item2'], express: true }),
    signal: callTimeout(5000, 'POST /orders'),
  });
  expectThat(placed.status === 201, 'POST /orders to answer 201 (order.created published and confirmed)', () => `HTTP ${placed.status}`);
  let last: OrderView | undefined;
  return waitFor(
    async () => {
      last = (await (
        await fetch(`${baseUrl}/orders/${orderId}`, { signal: callTimeout(2000, `GET /orders/${orderId}`) })
      ).json()) as OrderView;
      return last.status === 'completed' ? last : undefined;
    },
    `order ${orderId} to go pending → paid → shipped → completed`,
    () =>
      `it stayed ${last?.status ?? 'unknown'} (steps: ${last?.history.map((step) => step.event).join(' → ') ?? 'none'}): an event did not reach the service that handles it`,
    timeoutMs,
  );
}

export const inTheSystem: Check<'routing'> = {
  id: '02.in-the-system',
  name: 'with your routing, the order system takes an express order all the way to completed',
  hint: 'Each service queue needs every event type SUBSCRIPTIONS lists for it, and every event, express or not, is published under its type.',
  timeoutMs: 8000,
  async run(context) {
    // Declare once up front: a broken declareRoutes fails here at once, instead of services retrying their setup.
    await declareRouting(context, { topology: context.topology, durable: true, fanout: true });
    for (const exchange of ROUTED) {
      const cause = await bindingCause(context, context.topology, exchange);
      expectThat(
        cause === undefined,
        `the bindings the order system needs (${exchange})`,
        () => `${cause}: some events would never reach their service`,
        undefined,
        cause,
      );
    }
    for (const express of [false, true]) {
      const event = sampleEvent('order.created', express);
      const key = context.layer.routingKeyFor(event);
      expectThat(
        key === event.type,
        `routingKeyFor(${express ? 'an express' : 'a'} order.created) to be "order.created"`,
        `"${key}": no binding matches it`,
      );
    }
    const services = await startServices(context, ['order', 'inventory', 'payment', 'shipping']);
    await placeOrderAndWaitForCompletion(
      `http://127.0.0.1:${services.order.httpPort}`,
      `routing-${Math.random().toString(36).slice(2, 8)}`,
    );
  },
};
