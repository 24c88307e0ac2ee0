// Priority: orders pile up in inventory.queue while no inventory service runs; when one starts
// (prefetch 1, so it takes one message at a time), the express order is reserved first.
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunningSystem } from '../../solutions/system.ts';
import { eventually } from '../support/eventually.ts';
import { postOrder } from './support/order-api.ts';
import { useSystemUnderTest } from './support/system-under-test.ts';

const STANDARD_ORDERS = ['standard-1', 'standard-2', 'standard-3', 'standard-4', 'standard-5'];
const EXPRESS_ORDER = 'express-1';

describe('express orders overtake standard ones', () => {
  const sut = useSystemUnderTest('priority');
  let orderOnly: RunningSystem;

  beforeAll(async () => {
    // Only the order service: it declares the whole topology, and order.created waits in inventory.queue.
    orderOnly = await sut.start({ services: ['order'] });
  });

  it('the express order placed last is reserved first', async () => {
    for (const orderId of STANDARD_ORDERS) {
      expect((await postOrder(`${orderOnly.baseUrl}`, { orderId, user: 'gayal', items: ['item1'] })).status).toBe(201);
    }
    // 201 means the broker confirmed order.created: all six are in inventory.queue before inventory starts.
    expect((await postOrder(`${orderOnly.baseUrl}`, { orderId: EXPRESS_ORDER, user: 'gayal', items: ['item2'], express: true })).status).toBe(201);

    const inventory = await sut.start({ services: ['inventory'], config: { prefetch: 1 } });
    const reservations = inventory.runtime('inventory').db.prepare<[], { order_id: string }>('SELECT order_id FROM reservations ORDER BY rowid');
    const reservedInOrder = await eventually(
      () => {
        const rows = reservations.all().map((row) => row.order_id);
        return rows.length === STANDARD_ORDERS.length + 1 && rows;
      },
      { what: 'all six orders reserved' },
    );

    expect(reservedInOrder, '🚨 the express order (priority 5) should leave inventory.queue before the standard ones').toEqual([EXPRESS_ORDER, ...STANDARD_ORDERS]);
    const reservedLines = sut.logs.linesOf('inventory').filter((line) => line.startsWith('reserved '));
    expect(reservedLines[0]).toBe(`reserved 1 items for order ${EXPRESS_ORDER}`);
  });
});
