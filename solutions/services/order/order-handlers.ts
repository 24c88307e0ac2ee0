// The order's state machine: pending → paid → shipped → completed, or pending → rejected | failed.
// Each step records the new status and publishes the matching order.* event.
import type { EventHandler, HandlerMap } from '../../runtime/service-definition.ts';
import { resendWhatWasSent } from '../../runtime/stall-watch.ts';
import { NotReadyError } from '../../runtime/errors.ts';
import { OrderStore, TERMINAL_STATUSES, type Order, type OrderStatus } from './order-store.ts';

/**
 * Loads the order and checks it is in `expected` status. Returns undefined when the step already
 * happened (a duplicate or late event: nothing to do). Throws NotReadyError when the order has not
 * got there yet (events can overtake each other through retries and competing consumers).
 */
function orderAwaiting(store: OrderStore, orderId: string, expected: OrderStatus): Order | undefined {
  const order = store.find(orderId);
  if (!order) throw new NotReadyError(`order ${orderId} is not known yet`);
  if (order.status === expected) return order;
  const alreadyPast = TERMINAL_STATUSES.includes(order.status) || HAPPY_PATH.indexOf(order.status) > HAPPY_PATH.indexOf(expected);
  if (alreadyPast) return undefined;
  throw new NotReadyError(`order ${orderId} is ${order.status}, expected ${expected}`);
}

const HAPPY_PATH: OrderStatus[] = ['pending', 'paid', 'shipped', 'completed'];

const rejectOnOutOfStock: EventHandler<'inventory.out_of_stock'> = (event, { db, emit, log }) => {
  const store = new OrderStore(db);
  if (!orderAwaiting(store, event.orderId, 'pending')) return;
  const reason = `out of stock: ${event.payload.missing.map((m) => `${m.sku} (wanted ${m.requested}, have ${m.available})`).join(', ')}`;
  store.setStatus(event.orderId, 'rejected', 'order.rejected', reason);
  emit('order.rejected', { reason });
  log.info(`order ${event.orderId} rejected: ${reason}`);
};

const markPaid: EventHandler<'payment.success'> = (event, { db, emit, log }) => {
  const store = new OrderStore(db);
  if (!orderAwaiting(store, event.orderId, 'pending')) return;
  store.setStatus(event.orderId, 'paid', 'order.paid');
  emit('order.paid', { paymentId: event.payload.paymentId, amount: event.payload.amount });
  log.info(`order ${event.orderId} paid`);
};

const failOnPaymentFailure: EventHandler<'payment.failed'> = (event, { db, emit, log }) => {
  const store = new OrderStore(db);
  if (!orderAwaiting(store, event.orderId, 'pending')) return;
  const reason = `payment failed: ${event.payload.reason}`;
  store.setStatus(event.orderId, 'failed', 'order.failed', reason);
  emit('order.failed', { reason });
  log.info(`order ${event.orderId} failed: ${reason}`);
};

const markShipped: EventHandler<'shipping.prepared'> = (event, { db, emit, log }) => {
  const store = new OrderStore(db);
  if (!orderAwaiting(store, event.orderId, 'paid')) return;
  store.setStatus(event.orderId, 'shipped', 'order.shipped', `shipment ${event.payload.shipmentId}`);
  emit('order.shipped', { shipmentId: event.payload.shipmentId });
  log.info(`order ${event.orderId} shipped`);
};

const markCompleted: EventHandler<'shipping.delivered'> = (event, { db, emit, log }) => {
  const store = new OrderStore(db);
  if (!orderAwaiting(store, event.orderId, 'shipped')) return;
  store.setStatus(event.orderId, 'completed', 'order.completed');
  emit('order.completed', {});
  log.info(`order ${event.orderId} completed`);
};

export const orderHandlers: HandlerMap = {
  'inventory.out_of_stock': rejectOnOutOfStock,
  'payment.success': markPaid,
  'payment.failed': failOnPaymentFailure,
  'shipping.prepared': markShipped,
  'shipping.delivered': markCompleted,
  // Another service saw this order stop moving: send again what this one published about it.
  'saga.stalled': resendWhatWasSent,
};
