// Inventory reserves stock when an order arrives, commits it when payment succeeds, and releases it
// when payment fails (the compensating step that undoes the reservation).
import type { EventHandler, HandlerMap } from '../../runtime/service-definition.ts';
import { resendWhatWasSent } from '../../runtime/stall-watch.ts';
import { StockStore } from './stock-store.ts';

const reserveStock: EventHandler<'order.created'> = (event, { db, emit, log }) => {
  const store = new StockStore(db);
  if (store.reservation(event.orderId)) return; // this order was handled already (same order, new message id)
  const { items } = event.payload;
  const missing = items.flatMap((item) => {
    const level = store.level(item.sku);
    const available = level ? level.onHand - level.reserved : 0;
    return available >= item.quantity ? [] : [{ sku: item.sku, requested: item.quantity, available }];
  });
  if (missing.length > 0) {
    emit('inventory.out_of_stock', { missing });
    log.info(`order ${event.orderId} is out of stock: ${missing.map((m) => m.sku).join(', ')}`);
    return;
  }
  store.reserve(event.orderId, items);
  const amount = items.reduce((sum, item) => sum + (store.level(item.sku)?.priceCents ?? 0) * item.quantity, 0);
  emit('inventory.reserved', { items, amount });
  log.info(`reserved ${items.reduce((n, i) => n + i.quantity, 0)} items for order ${event.orderId}`);
};

const commitStock: EventHandler<'payment.success'> = (event, { db, emit, log }) => {
  const store = new StockStore(db);
  const reservation = store.reservation(event.orderId);
  if (!reservation) throw new Error(`payment succeeded for order ${event.orderId}, which has no reservation`);
  if (reservation.state !== 'reserved') return;
  store.commit(event.orderId, reservation.items);
  emit('inventory.committed', { items: reservation.items });
  log.info(`committed stock for order ${event.orderId}`);
};

const releaseStock: EventHandler<'payment.failed'> = (event, { db, emit, log }) => {
  const store = new StockStore(db);
  const reservation = store.reservation(event.orderId);
  if (!reservation || reservation.state !== 'reserved') return;
  store.release(event.orderId, reservation.items);
  emit('inventory.released', { items: reservation.items, reason: event.payload.reason });
  log.info(`released stock for order ${event.orderId}: payment failed`);
};

export const inventoryHandlers: HandlerMap = {
  'order.created': reserveStock,
  'payment.success': commitStock,
  'payment.failed': releaseStock,
  // Another service saw this order stop moving: send again what this one published about it.
  'saga.stalled': resendWhatWasSent,
};
