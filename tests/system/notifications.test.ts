// Notifications go out once per order, event and channel: the same order.* event published again
// under a new message id (a producer that republished it, a replay) sends nothing the second time,
// is acked, and is logged as a duplicate. Runs the notification service alone and feeds it events.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { newEvent, type DomainEvent } from '../../shared/messages/events.ts';
import { EXCHANGES, QUEUES } from '../../shared/topology/topology.ts';
import { NotificationStore } from '../../solutions/services/notification/notification-store.ts';
import type { RunningSystem } from '../../solutions/system.ts';
import { eventually } from '../support/eventually.ts';
import { TestBrokerClient, type MessageCollector } from './support/broker-client.ts';
import { useSystemUnderTest } from './support/system-under-test.ts';

describe('notifications', () => {
  const sut = useSystemUnderTest('notifications');
  let system: RunningSystem;
  let client: TestBrokerClient;
  let deadLetters: MessageCollector;

  beforeAll(async () => {
    system = await sut.start({ services: ['notification'] });
    client = await TestBrokerClient.connect(sut.vhost.url);
    deadLetters = await client.collect(QUEUES.deadLetter);
    return () => client.close();
  });

  const orderId = 'notify-once';
  const sent = (channel: 'email' | 'sms') =>
    new NotificationStore(system.runtime('notification').db)
      .sentFor(orderId)
      .filter((notification) => notification.channel === channel)
      .map((notification) => notification.event);
  const publish = (event: DomainEvent) => client.publishEvent(EXCHANGES.order, event.type, event);

  it('an event republished under a new message id sends nothing again, is acked, and is logged as a duplicate', async () => {
    const created = newEvent('order.created', {
      orderId,
      source: 'order',
      payload: { user: 'ada', items: [{ sku: 'item1', quantity: 1 }] },
    });
    const paid = newEvent('order.paid', { orderId, source: 'order', payload: { paymentId: 'pay_1', amount: 1500 } });
    const shipped = newEvent('order.shipped', { orderId, source: 'order', payload: { shipmentId: 'shp_1' } });
    for (const event of [created, paid, shipped]) await publish(event);
    await eventually(() => sent('email').includes('order.shipped') && sent('sms').includes('order.shipped'), {
      what: 'the order.shipped email and text message',
    });

    // The same events, word for word, under new message ids: the runtime's message-id check lets them through.
    const copies = [paid, shipped].map((event) => ({ ...event, messageId: randomUUID() }));
    for (const copy of copies) await publish(copy);
    const duplicates = [
      /skipped email for order\.paid of order notify-once: a duplicate/,
      /skipped email for order\.shipped of order notify-once: a duplicate/,
      /skipped sms for order\.shipped of order notify-once: a duplicate/,
    ];
    await eventually(() => duplicates.every((line) => sut.logs.linesOf('notification').some((logged) => line.test(logged))), {
      what: 'the notification service to log the three duplicates',
    });

    expect(sent('email'), '🚨 one email per order status, whatever the message id').toEqual([
      'order.created',
      'order.paid',
      'order.shipped',
    ]);
    expect(sent('sms'), '🚨 one text message per order status, whatever the message id').toEqual(['order.shipped']);
    for (const notification of new NotificationStore(system.runtime('notification').db).sentFor(orderId))
      expect(notification.recipient).toBe('ada');

    // Acked, not held or parked: once the consumers are gone, an unacked copy would be back in its queue.
    await system.stop();
    expect(await client.messagesIn(QUEUES.notificationEmail)).toBe(0);
    expect(await client.messagesIn(QUEUES.notificationSms)).toBe(0);
    expect(deadLetters.messages.filter((message) => copies.some((copy) => copy.messageId === message.properties.messageId))).toEqual([]);
  });
});
