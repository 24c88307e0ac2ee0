// Turns order status events into messages for the customer. Each channel has its own queue fed by
// the notification fanout exchange, so a slow SMS gateway never delays email. Sending is simulated:
// the text is logged and recorded. Email sees every order.* event; SMS only what its headers
// exchange passes on (an express order's events worth a text: TEXTED_EVENTS in topology.ts).
import type { DomainEvent, EventOf } from '../../../shared/messages/events.ts';
import type { EventHandler, HandlerMap } from '../../runtime/service-definition.ts';
import { NotificationStore, type NotificationChannel } from './notification-store.ts';

type OrderEvent = Extract<DomainEvent, { type: `order.${string}` }>;

function emailText(event: OrderEvent): string {
  switch (event.type) {
    case 'order.created':
      return `We received your order ${event.orderId} (${event.payload.items.length} item lines).`;
    case 'order.paid':
      return `Payment of ${(event.payload.amount / 100).toFixed(2)} received for order ${event.orderId}.`;
    case 'order.shipped':
      return `Order ${event.orderId} is on its way (shipment ${event.payload.shipmentId}).`;
    case 'order.completed':
      return `Order ${event.orderId} was delivered. Enjoy!`;
    case 'order.rejected':
      return `Sorry, we could not fulfil order ${event.orderId}: ${event.payload.reason}.`;
    case 'order.failed':
      return `Order ${event.orderId} was cancelled: ${event.payload.reason}.`;
  }
}

/** Text messages only for what a customer wants on their phone; the broker already picked these (TEXTED_EVENTS). */
function smsText(event: OrderEvent): string | undefined {
  switch (event.type) {
    case 'order.created':
      return `Order ${event.orderId} received: we will text you when it ships.`;
    case 'order.shipped':
      return `Order ${event.orderId} shipped.`;
    case 'order.completed':
      return `Order ${event.orderId} delivered.`;
    case 'order.rejected':
    case 'order.failed':
      return `Order ${event.orderId} cancelled, see your email.`;
    default:
      // order.paid: routine, email only. Only a binding other than the topology's delivers it here.
      return undefined;
  }
}

function notifyVia(channel: NotificationChannel): EventHandler<OrderEvent['type']> {
  const textFor = channel === 'email' ? emailText : smsText;
  return (event, { db, log }) => {
    const store = new NotificationStore(db);
    const orderEvent = event as EventOf<OrderEvent['type']> as OrderEvent;
    if (orderEvent.type === 'order.created') store.rememberCustomer(event.orderId, orderEvent.payload.user);
    const text = textFor(orderEvent);
    if (!text) return;
    // The runtime skips a message id it has seen; the same event republished under a new id is
    // caught here, by what it says: one notification per order, event and channel. The check and
    // the record share the delivery's transaction (BEGIN IMMEDIATE), so two workers cannot both send.
    if (store.alreadySent(channel, event.orderId, event.type)) {
      log.info(`skipped ${channel} for ${event.type} of order ${event.orderId}: a duplicate (message ${event.messageId}), already sent`);
      return;
    }
    const recipient = store.customerOf(event.orderId) ?? 'customer';
    store.record({ channel, orderId: event.orderId, event: event.type, recipient, text });
    log.info(`sent ${channel} to ${recipient}: ${text}`);
  };
}

export function notificationHandlers(channel: NotificationChannel): HandlerMap {
  const notify = notifyVia(channel);
  return {
    'order.created': notify,
    'order.paid': notify,
    'order.shipped': notify,
    'order.completed': notify,
    'order.rejected': notify,
    'order.failed': notify,
  };
}
