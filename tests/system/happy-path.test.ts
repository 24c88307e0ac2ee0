// The seed's order, all the way: placed over HTTP, reserved, paid, shipped, delivered, completed,
// with every event in the audit log in causal order, emails sent and stock taken off the shelf.
import { beforeAll, describe, expect, it } from 'vitest';
import { AuditStore } from '../../solutions/services/audit/audit-store.ts';
import { StockStore } from '../../solutions/services/inventory/stock-store.ts';
import { NotificationStore } from '../../solutions/services/notification/notification-store.ts';
import type { RunningSystem } from '../../solutions/system.ts';
import { eventually } from '../support/eventually.ts';
import { postOrder, SEED_ORDER, waitForStatus } from './support/order-api.ts';
import { countOf, typesOf, waitForAudit } from './support/service-state.ts';
import { useSystemUnderTest } from './support/system-under-test.ts';
import { TRAIL_OF } from '../../shared/messages/order-trail.ts';

/** The events of an order that completes, in the order they happen. */
const FLOW: string[] = TRAIL_OF.completed;

/** Pairs (cause, effect): the effect can only happen after the cause was handled. */
const CAUSAL_CHAIN = [
  'order.created',
  'inventory.reserved',
  'payment.success',
  'shipping.prepared',
  'delivery.confirmed',
  'shipping.delivered',
  'order.completed',
];

describe('happy path', () => {
  const sut = useSystemUnderTest('happy-path');
  let system: RunningSystem;
  let item1OnHandBefore: number;

  beforeAll(async () => {
    system = await sut.start();
    item1OnHandBefore = new StockStore(system.runtime('inventory').db).level('item1')?.onHand ?? Number.NaN;
  });

  it("the seed's order reaches completed, with its history in order", async () => {
    const placed = await postOrder(`${system.baseUrl}`, SEED_ORDER);
    expect(placed.status, '🚨 a new order is 201 Created once the broker confirmed order.created').toBe(201);
    expect(placed.body.status).toBe('pending');

    const order = await waitForStatus(`${system.baseUrl}`, '123', 'completed');
    expect(order.history.map((entry) => `${entry.status}(${entry.event})`)).toEqual([
      'pending(order.created)',
      'paid(order.paid)',
      'shipped(order.shipped)',
      'completed(order.completed)',
    ]);
    expect(order.items).toEqual([
      { sku: 'item1', quantity: 1 },
      { sku: 'item2', quantity: 1 },
    ]);
  });

  it('the audit log holds every event of the flow, once each, in causal order', async () => {
    const audit = new AuditStore(system.runtime('audit').db);
    const trail = await waitForAudit(audit, '123', FLOW);

    for (const type of FLOW) expect(countOf(trail, type), `🚨 ${type} should be logged exactly once`).toBe(1);
    const position = (type: string) => typesOf(trail).indexOf(type);
    const occurred = (type: string) => trail.find((entry) => entry.type === type)?.occurredAt ?? '';
    for (let i = 1; i < CAUSAL_CHAIN.length; i++) {
      const [cause, effect] = [CAUSAL_CHAIN[i - 1] as string, CAUSAL_CHAIN[i] as string];
      expect(position(cause), `🚨 ${cause} should be recorded before ${effect}`).toBeLessThan(position(effect));
      expect(occurred(cause) <= occurred(effect), `🚨 ${cause} should have occurred no later than ${effect}`).toBe(true);
    }
    expect(position('inventory.committed')).toBeGreaterThan(position('payment.success'));
    expect(position('order.paid')).toBeGreaterThan(position('payment.success'));
    expect(position('order.shipped')).toBeGreaterThan(position('shipping.prepared'));
  });

  it('emails the customer at each step', async () => {
    const notifications = new NotificationStore(system.runtime('notification').db);
    const emails = await eventually(
      () => {
        const sent = notifications.sentFor('123').filter((notification) => notification.channel === 'email');
        return sent.some((email) => email.event === 'order.completed') && sent;
      },
      { what: 'the order.completed email for order 123' },
    );
    expect(emails.map((email) => email.event)).toEqual(['order.created', 'order.paid', 'order.shipped', 'order.completed']);
    for (const email of emails) expect(email.recipient).toBe('gayal');
  });

  it('took one item1 off the shelf and holds no reservation', () => {
    const item1 = new StockStore(system.runtime('inventory').db).level('item1');
    expect(item1?.onHand).toBe(item1OnHandBefore - 1);
    expect(item1?.reserved).toBe(0);
  });
});
