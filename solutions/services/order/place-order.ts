// Placing an order: one transaction stores the order and its order.created event (outbox), so an
// order is never saved without its event, nor published without being saved.
import { newEvent } from '../../../shared/messages/events.ts';
import type { PlaceOrderBody } from '../../../shared/messages/http.ts';
import type { TraceContext } from '../../observability/tracing.ts';
import type { ServiceHost } from '../../runtime/service-definition.ts';
import { OrderStore, type Order } from './order-store.ts';

export type PlaceOrderResult =
  { kind: 'created'; order: Order; published: boolean } | { kind: 'duplicate'; order: Order } | { kind: 'conflict'; order: Order };

/** How long the HTTP request waits for the broker's confirm before answering 202 instead of 201. */
const PUBLISH_WAIT_MS = 3000;

/** `trace`: the HTTP request's, which order.created continues. */
export async function placeOrder(host: ServiceHost, body: PlaceOrderBody, trace?: TraceContext): Promise<PlaceOrderResult> {
  const store = new OrderStore(host.db);
  const orderId = body.orderId ?? crypto.randomUUID();
  const items = body.items; // merged by sku, and checked against order.created's schema, when parsed
  const express = body.express ?? false;

  const outcome = host.db
    .transaction((): PlaceOrderResult | { kind: 'stored'; outboxRow: number } => {
      const existing = store.find(orderId);
      if (existing) {
        // The same order sent twice (a client retry) is one order; a different order under a used id is a conflict.
        const same =
          existing.user === body.user && JSON.stringify(existing.items) === JSON.stringify(items) && existing.express === express;
        return { kind: same ? 'duplicate' : 'conflict', order: existing };
      }
      store.insert({ orderId, user: body.user, items, express });
      const event = newEvent('order.created', { orderId, source: 'order', express, payload: { user: body.user, items } });
      return { kind: 'stored', outboxRow: host.enqueue(event, { trace }) };
    })
    .immediate();

  if (outcome.kind !== 'stored') return outcome;
  const published = await host.waitForPublish(outcome.outboxRow, PUBLISH_WAIT_MS);
  host.log.info(
    `published order.created for order ${orderId} (${items.length} item lines, ${express ? 'express' : 'standard'})${published ? '' : ' (confirm pending: stays in the outbox)'}`,
  );
  return { kind: 'created', order: store.find(orderId) as Order, published };
}
