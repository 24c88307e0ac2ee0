// One well-formed event of every type, for tests and checks that need "any valid X" (routing every
// type, forging every type under least privilege). The values mean nothing in particular.
import { type DomainEvent, type EventOf, type EventType, newEvent } from './events.ts';

const items = [{ sku: 'item1', quantity: 1 }];

export const SAMPLE_PAYLOADS: { [T in EventType]: EventOf<T>['payload'] } = {
  'order.created': { user: 'gayal', items },
  'order.paid': { paymentId: 'p-1', amount: 1500 },
  'order.shipped': { shipmentId: 's-1' },
  'order.completed': {},
  'order.rejected': { reason: 'out of stock' },
  'order.failed': { reason: 'payment declined' },
  'inventory.reserved': { items, amount: 1500 },
  'inventory.out_of_stock': { missing: [{ sku: 'item1', requested: 1, available: 0 }] },
  'inventory.committed': { items },
  'inventory.released': { items, reason: 'payment declined' },
  'payment.success': { paymentId: 'p-1', amount: 1500 },
  'payment.failed': { reason: 'declined', amount: 1500 },
  'shipping.prepared': { shipmentId: 's-1' },
  'shipping.delivered': { shipmentId: 's-1' },
  'delivery.confirmed': { confirmedBy: 'simulation' },
  'saga.stalled': { reason: 'pending for 60 s', attempt: 1 },
};

/** The service an event of this family comes from (delivery.confirmed: the customer, through order's API). */
const SOURCES: Record<string, DomainEvent['source']> = {
  order: 'order',
  inventory: 'inventory',
  payment: 'payment',
  shipping: 'shipping',
  delivery: 'order',
};

export function sampleEvent(type: EventType, options: { orderId?: string; express?: boolean } = {}): DomainEvent {
  const { express = false } = options;
  const orderId = options.orderId ?? (express ? 'order-express-7' : 'order-42');
  return newEvent(type, {
    orderId,
    source: SOURCES[type.split('.')[0] as string] ?? 'order',
    express,
    payload: SAMPLE_PAYLOADS[type] as never,
  }) as DomainEvent;
}
