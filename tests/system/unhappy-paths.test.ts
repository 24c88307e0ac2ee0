// Orders that cannot go through: out of stock (rejected before any payment) and a declined card
// (failed, and the compensating step gives the reserved stock back).
import { beforeAll, describe, expect, it } from 'vitest';
import { AuditStore } from '../../solutions/services/audit/audit-store.ts';
import { StockStore } from '../../solutions/services/inventory/stock-store.ts';
import { PaymentStore } from '../../solutions/services/payment/payment-store.ts';
import type { RunningSystem } from '../../solutions/system.ts';
import { postOrder, waitForStatus } from './support/order-api.ts';
import { countOf, typesOf, waitForAudit } from './support/service-state.ts';
import { useSystemUnderTest } from './support/system-under-test.ts';

describe('unhappy paths', () => {
  const sut = useSystemUnderTest('unhappy-paths');
  let system: RunningSystem;
  let audit: AuditStore;

  beforeAll(async () => {
    system = await sut.start();
    audit = new AuditStore(system.runtime('audit').db);
  });

  it('an out-of-stock order is rejected, and nobody is charged', async () => {
    const placed = await postOrder(`${system.baseUrl}`, { orderId: 'no-stock', user: 'gayal', items: ['item1', 'unobtainium'] });
    expect(placed.status).toBe(201);

    const order = await waitForStatus(`${system.baseUrl}`, 'no-stock', 'rejected');
    expect(order.history.map((entry) => entry.status)).toEqual(['pending', 'rejected']);
    expect(order.history[1]?.detail).toMatch(/unobtainium/);

    const trail = await waitForAudit(audit, 'no-stock', ['order.created', 'inventory.out_of_stock', 'order.rejected']);
    // order.rejected is the last event of this order: once it is logged, nothing else is on its way.
    expect(typesOf(trail).filter((type) => type.startsWith('payment.') || type === 'inventory.reserved')).toEqual([]);
    expect(new PaymentStore(system.runtime('payment').db).find('no-stock'), '🚨 a rejected order must not be charged').toBeUndefined();
    // Nothing was held back for it either (item1 was in stock, but the order as a whole was not).
    expect(new StockStore(system.runtime('inventory').db).reservation('no-stock')).toBeUndefined();
  });

  it('a declined payment fails the order and releases the reserved stock', async () => {
    const stock = new StockStore(system.runtime('inventory').db);
    const before = stock.level('gold-bar');
    expect(before?.reserved).toBe(0);

    const placed = await postOrder(`${system.baseUrl}`, { orderId: 'too-dear', user: 'gayal', items: ['gold-bar'] });
    expect(placed.status).toBe(201);

    const order = await waitForStatus(`${system.baseUrl}`, 'too-dear', 'failed');
    expect(order.history.map((entry) => entry.status)).toEqual(['pending', 'failed']);
    expect(order.history[1]?.detail).toMatch(/declined/);

    const trail = await waitForAudit(audit, 'too-dear', [
      'order.created',
      'inventory.reserved',
      'payment.failed',
      'inventory.released',
      'order.failed',
    ]);
    expect(countOf(trail, 'inventory.released')).toBe(1);
    expect(countOf(trail, 'inventory.committed')).toBe(0);
    expect(typesOf(trail).indexOf('inventory.released')).toBeGreaterThan(typesOf(trail).indexOf('payment.failed'));

    const payment = new PaymentStore(system.runtime('payment').db).find('too-dear');
    expect(payment).toMatchObject({ status: 'declined', amount: 5_000_000 });
    expect(stock.reservation('too-dear')?.state).toBe('released');
    expect(stock.level('gold-bar'), '🚨 the reservation is given back: reserved 0, on hand unchanged').toEqual({ ...before, reserved: 0 });
  });
});
