// Payment charges the customer once stock is reserved. The card is simulated: any amount above
// the limit (PAYMENT_LIMIT_CENTS) is declined.
import { z } from 'zod';
import type { EventHandler, HandlerMap, ServiceHost } from '../../runtime/service-definition.ts';
import { resendWhatWasSent } from '../../runtime/stall-watch.ts';
import { PaymentStore } from './payment-store.ts';

const chargeCustomer: EventHandler<'inventory.reserved'> = (event, { db, emit, log, config }) => {
  const store = new PaymentStore(db);
  if (store.find(event.orderId)) return; // charged already: never charge twice
  const { amount } = event.payload;
  const paymentId = `pay_${crypto.randomUUID().slice(0, 12)}`;
  if (amount > config.paymentLimitCents) {
    const reason = `card declined: ${amount} cents is over the limit of ${config.paymentLimitCents}`;
    store.insert({ orderId: event.orderId, paymentId, amount, status: 'declined', reason });
    emit('payment.failed', { reason, amount });
    log.info(`payment failed for order ${event.orderId}: ${reason}`);
    return;
  }
  store.insert({ orderId: event.orderId, paymentId, amount, status: 'paid', reason: null });
  emit('payment.success', { paymentId, amount });
  log.info(`payment success for order ${event.orderId} (${amount} cents)`);
};

export const paymentHandlers: HandlerMap = {
  'inventory.reserved': chargeCustomer,
  // Another service saw this order stop moving: send again what this one published about it.
  'saga.stalled': resendWhatWasSent,
};

export const PaymentStatusRequest = z.object({ orderId: z.string().min(1) });

/** RPC: "has order X been paid?" Answers from the payment service's own records. */
export function paymentStatusEndpoint(host: ServiceHost) {
  const store = new PaymentStore(host.db);
  return async (request: unknown) => {
    const parsed = PaymentStatusRequest.safeParse(request);
    if (!parsed.success) throw new Error(`invalid payment status request: ${parsed.error.issues[0]?.message ?? 'bad shape'}`);
    const payment = store.find(parsed.data.orderId);
    return payment ?? { orderId: parsed.data.orderId, status: 'unknown' };
  };
}
