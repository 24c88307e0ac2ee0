// Notifications go out once per order, event and channel: the same order.* event published again
// under a new message id (a producer that republished it, a replay) sends nothing the second time,
// is acked, and is logged as a duplicate. Text messages go only where the event's headers ask for
// one, through the headers exchange notification.sms.exchange: an express order's events worth a
// text, as booleans. Runs the notification service alone and feeds it events.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { newEvent, type DomainEvent } from '../../shared/messages/events.ts';
import { EXCHANGES, QUEUES, SMS_HEADERS } from '../../shared/topology/topology.ts';
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

  const sent = (orderId: string, channel: 'email' | 'sms') =>
    new NotificationStore(system.runtime('notification').db)
      .sentFor(orderId)
      .filter((notification) => notification.channel === channel)
      .map((notification) => notification.event);
  const publish = (event: DomainEvent, routingHeaders?: Record<string, unknown>) =>
    client.publishEvent(EXCHANGES.order, event.type, event, routingHeaders);
  /** An order's created, paid and shipped events, as the order service publishes them. */
  const orderEvents = (orderId: string, express: boolean) => [
    newEvent('order.created', { orderId, source: 'order', express, payload: { user: 'ada', items: [{ sku: 'item1', quantity: 1 }] } }),
    newEvent('order.paid', { orderId, source: 'order', express, payload: { paymentId: 'pay_1', amount: 1500 } }),
    newEvent('order.shipped', { orderId, source: 'order', express, payload: { shipmentId: 'shp_1' } }),
  ];

  it('text messages go only where the headers ask for one: an express order, an event worth a text, boolean headers', async () => {
    const { express, textWorthy } = SMS_HEADERS;
    // Published first, so that by the time the express order's texts are sent these were delivered too, had they been routed.
    const notTexted: Array<{ orderId: string; headers?: Record<string, unknown> }> = [
      { orderId: 'texts-standard' }, // the service's own headers: express false
      { orderId: 'texts-strings', headers: { [express]: 'true', [textWorthy]: 'true' } },
      { orderId: 'texts-no-headers', headers: {} },
    ];
    for (const { orderId, headers } of notTexted) {
      for (const event of orderEvents(orderId, headers === undefined ? false : true)) await publish(event, headers);
    }
    for (const event of orderEvents('texts-express', true)) await publish(event);

    await eventually(() => sent('texts-express', 'sms').includes('order.shipped'), { what: "the express order's shipping text" });
    const everyEmail = ['order.created', 'order.paid', 'order.shipped'];
    // Emails and texts are consumed from two queues: the express order's texts can be done before its emails.
    const emailed = ['texts-express', ...notTexted.map(({ orderId }) => orderId)];
    await eventually(() => emailed.every((orderId) => sent(orderId, 'email').length === everyEmail.length), {
      what: 'the emails of every order',
    });
    expect(sent('texts-express', 'sms'), '🚨 an express order is texted what is worth a text (not order.paid)').toEqual([
      'order.created',
      'order.shipped',
    ]);
    expect(sent('texts-express', 'email')).toEqual(everyEmail);
    for (const { orderId } of notTexted) {
      expect(sent(orderId, 'email'), `🚨 ${orderId}: every email still goes`).toEqual(everyEmail);
      expect(sent(orderId, 'sms'), `🚨 ${orderId}: no text message (its headers do not match as booleans)`).toEqual([]);
    }
  });

  it('an event republished under a new message id sends nothing again, is acked, and is logged as a duplicate', async () => {
    const orderId = 'notify-once';
    const [created, paid, shipped] = orderEvents(orderId, true) as [DomainEvent, DomainEvent, DomainEvent];
    for (const event of [created, paid, shipped]) await publish(event);
    await eventually(() => sent(orderId, 'email').includes('order.shipped') && sent(orderId, 'sms').includes('order.shipped'), {
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

    expect(sent(orderId, 'email'), '🚨 one email per order status, whatever the message id').toEqual([
      'order.created',
      'order.paid',
      'order.shipped',
    ]);
    expect(sent(orderId, 'sms'), '🚨 one text message per order status, whatever the message id').toEqual([
      'order.created',
      'order.shipped',
    ]);
    for (const notification of new NotificationStore(system.runtime('notification').db).sentFor(orderId))
      expect(notification.recipient).toBe('ada');

    // Acked, not held or parked: once the consumers are gone, an unacked copy would be back in its queue.
    await system.stop();
    expect(await client.messagesIn(QUEUES.notificationEmail)).toBe(0);
    expect(await client.messagesIn(QUEUES.notificationSms)).toBe(0);
    expect(deadLetters.messages.filter((message) => copies.some((copy) => copy.messageId === message.properties.messageId))).toEqual([]);
  });
});
