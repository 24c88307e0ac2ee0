// Layer 3: order.exchange forwards event families to the fanout exchanges, which copy each event to
// every bound queue or exchange: order.* to the audit log, email, and the SMS channel's headers
// exchange (which texts only what the headers ask for), payment.* to audit only.
import { describe, expect, it } from 'vitest';
import { newEvent } from '../../shared/messages/events.ts';
import { buildTopology, EXCHANGES, QUEUES, routingHeadersFor } from '../../shared/topology/topology.ts';
import { referenceLayers } from '../../solutions/layers/index.ts';
import { declareTopology } from '../../solutions/runtime/declare-topology.ts';
import { useVhostChannel } from '../support/vhost.ts';

const WATCHED = [QUEUES.audit, QUEUES.notificationEmail, QUEUES.notificationSms, QUEUES.unroutable] as const;

const broker = useVhostChannel('layer-03', {
  setup: async ({ channel }) => {
    await declareTopology(channel, buildTopology(), referenceLayers, 'classic');
  },
});

/** Publishes to an exchange and waits for the confirm (the broker has routed it by then). */
async function publish(exchange: string, routingKey: string, messageId: string, headers?: Record<string, unknown>): Promise<void> {
  broker.channel.publish(exchange, routingKey, Buffer.from('{}'), { messageId, headers });
  await broker.channel.waitForConfirms();
}

/** Which of the watched queues hold the message, emptying them. */
async function queuesHolding(messageId: string): Promise<string[]> {
  const holding: string[] = [];
  for (const queue of WATCHED) {
    for (
      let message = await broker.channel.get(queue, { noAck: true });
      message;
      message = await broker.channel.get(queue, { noAck: true })
    ) {
      if (message.properties.messageId === messageId) holding.push(queue);
    }
  }
  return holding.sort();
}

describe('fanout', () => {
  it('copies an order.* event to the audit queue and both notification queues, when its headers ask for a text', async () => {
    const event = newEvent('order.created', {
      orderId: 'order-1',
      source: 'order',
      express: true,
      payload: { user: 'ada', items: [{ sku: 'tea', quantity: 1 }] },
    });
    await publish(EXCHANGES.order, event.type, event.messageId, routingHeadersFor(event));
    expect(await queuesHolding(event.messageId)).toEqual([QUEUES.audit, QUEUES.notificationEmail, QUEUES.notificationSms].sort());
  });

  it('copies an order.* event to the audit and email queues only, when its headers do not ask for a text', async () => {
    const standard = newEvent('order.shipped', { orderId: 'order-2', source: 'order', payload: { shipmentId: 's1' } });
    await publish(EXCHANGES.order, standard.type, standard.messageId, routingHeadersFor(standard));
    expect(await queuesHolding(standard.messageId), '🚨 a standard order is not texted').toEqual(
      [QUEUES.audit, QUEUES.notificationEmail].sort(),
    );
    const paid = newEvent('order.paid', { orderId: 'order-2', source: 'order', express: true, payload: { paymentId: 'p1', amount: 1 } });
    await publish(EXCHANGES.order, paid.type, paid.messageId, routingHeadersFor(paid));
    expect(await queuesHolding(paid.messageId), '🚨 order.paid is not worth a text').toEqual(
      [QUEUES.audit, QUEUES.notificationEmail].sort(),
    );
  });

  it('copies a payment.* event to the audit queue but not to notifications', async () => {
    const event = newEvent('payment.success', { orderId: 'order-1', source: 'payment', payload: { paymentId: 'p1', amount: 500 } });
    await publish(EXCHANGES.order, event.type, event.messageId);
    expect(await queuesHolding(event.messageId)).toEqual([QUEUES.audit]);
  });

  it('audits every event family', async () => {
    for (const type of ['inventory.reserved', 'shipping.prepared', 'delivery.confirmed']) {
      await publish(EXCHANGES.order, type, type);
      expect(await queuesHolding(type), `🚨 ${type} should be audited`).toEqual([QUEUES.audit]);
    }
  });

  it('ignores the routing key on a fanout exchange', async () => {
    const texted = routingHeadersFor({ type: 'order.shipped', express: true });
    await publish(EXCHANGES.notification, 'any.key.at.all', 'broadcast', texted);
    expect(await queuesHolding('broadcast')).toEqual([QUEUES.notificationEmail, QUEUES.notificationSms].sort());
  });

  it('binds unroutable.queue and dead-letter.queue to their fanout exchanges', async () => {
    await publish(EXCHANGES.unroutable, 'whatever', 'stray');
    expect(await queuesHolding('stray')).toEqual([QUEUES.unroutable]);
    await publish(EXCHANGES.deadLetter, QUEUES.inventory, 'parked');
    const parked = await broker.channel.get(QUEUES.deadLetter, { noAck: true });
    expect(parked && parked.properties.messageId).toBe('parked');
  });
});
