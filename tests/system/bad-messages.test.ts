// Messages no consumer can use: a body that is not JSON, JSON that fails the schema, and a valid
// event sent to a queue that has no handler for it. Each is parked in dead-letter.queue with the
// reason and the queue it came from, at once (no retries), and the consumers keep running.
import { randomUUID } from 'node:crypto';
import type { ConsumeMessage } from 'amqplib';
import { beforeAll, describe, expect, it } from 'vitest';
import { PARK_HEADERS } from '../../shared/layers/index.ts';
import { newEvent } from '../../shared/messages/events.ts';
import { EXCHANGES, QUEUES, routingHeadersFor } from '../../shared/topology/topology.ts';
import type { RunningSystem } from '../../solutions/system.ts';
import { headerOf, TestBrokerClient, type MessageCollector } from './support/broker-client.ts';
import { postOrder, waitForStatus } from './support/order-api.ts';
import { useSystemUnderTest } from './support/system-under-test.ts';

/** The queues a message published to order.exchange with this routing key reaches. */
const QUEUES_REACHED = {
  'order.created': [QUEUES.inventory, QUEUES.audit, QUEUES.notificationEmail, QUEUES.notificationSms],
  'payment.success': [QUEUES.inventory, QUEUES.shipping, QUEUES.order, QUEUES.audit],
} as const;
type RoutingKey = keyof typeof QUEUES_REACHED;

describe('malformed and misrouted messages', () => {
  const sut = useSystemUnderTest('bad-messages');
  let system: RunningSystem;
  let client: TestBrokerClient;
  let deadLetters: MessageCollector;

  beforeAll(async () => {
    system = await sut.start();
    client = await TestBrokerClient.connect(sut.vhost.url);
    deadLetters = await client.collect(QUEUES.deadLetter);
    return () => client.close();
  });

  /** Waits until every queue in `queues` has parked message `messageId`, and returns the parked copies by queue. */
  async function parkedFrom(messageId: string, queues: readonly string[]): Promise<Map<string, ConsumeMessage>> {
    await deadLetters.waitFor(
      () =>
        queues.every((queue) => deadLetters.withMessageId(messageId).some((message) => headerOf(message, PARK_HEADERS.queue) === queue)),
      `message ${messageId} parked from ${queues.join(', ')}`,
    );
    return new Map(deadLetters.withMessageId(messageId).map((message) => [headerOf(message, PARK_HEADERS.queue) ?? '', message]));
  }

  /** Publishes `body` to order.exchange and checks every queue it reached parked it with a reason matching `reason`. */
  async function expectParked(routingKey: RoutingKey, body: string, reason: RegExp): Promise<void> {
    const messageId = randomUUID();
    // With the routing headers of an express order's event, as the services publish: order.created reaches the SMS queue too.
    const headers = routingHeadersFor({ type: routingKey, express: true });
    await client.publish(EXCHANGES.order, routingKey, body, { messageId, contentType: 'application/json', headers });
    const parked = await parkedFrom(messageId, QUEUES_REACHED[routingKey]);
    expect([...parked.keys()].sort()).toEqual([...QUEUES_REACHED[routingKey]].sort());
    for (const [queue, message] of parked) {
      expect(headerOf(message, PARK_HEADERS.reason), `🚨 parked from ${queue} with a reason`).toMatch(reason);
      expect(headerOf(message, PARK_HEADERS.attempts), `🚨 a malformed message is parked at once, not retried (${queue})`).toBe('1');
      expect(message.content.toString('utf8')).toBe(body);
    }
  }

  describe.each(Object.keys(QUEUES_REACHED) as RoutingKey[])('published to order.exchange as %s', (routingKey) => {
    it('a body that is not JSON is parked with the reason', async () => {
      await expectParked(routingKey, '{"type": "this is not JSON', /not valid JSON/);
    });

    it('JSON that fails the schema is parked with the reason', async () => {
      // The envelope is fine; the payload is not (no user, no items; no paymentId, a negative amount).
      const valid = newEvent('order.created', {
        orderId: 'schema',
        source: 'order',
        payload: { user: 'gayal', items: [{ sku: 'item1', quantity: 1 }] },
      });
      const invalid = { ...valid, type: routingKey, payload: routingKey === 'order.created' ? { items: [] } : { amount: -1 } };
      await expectParked(routingKey, JSON.stringify(invalid), new RegExp(`${routingKey.replace('.', '\\.')} does not match its schema`));
    });
  });

  it('a valid event the queue has no handler for is parked with the reason', async () => {
    const event = newEvent('shipping.prepared', { orderId: 'misrouted', source: 'shipping', payload: { shipmentId: 'shp_1' } });
    await client.publishEvent('', QUEUES.inventory, event);

    const parked = await parkedFrom(event.messageId, [QUEUES.inventory]);
    const message = parked.get(QUEUES.inventory);
    expect(headerOf(message as ConsumeMessage, PARK_HEADERS.reason)).toBe('inventory.queue has no handler for shipping.prepared events');
    expect(deadLetters.withMessageId(event.messageId)).toHaveLength(1);
  });

  // Found by tests/fuzz: counting attempts threw on such a header, so parking failed and the message
  // stayed unacked, holding one of the consumer's prefetch slots for as long as its channel lived.
  it.each([
    ['a string', 'rejected'],
    ['a list holding null', [null]],
    ['a table', { count: 3 }],
  ])('a bad message with a forged x-death header (%s) is parked too, counted as its first attempt', async (_, forged) => {
    const messageId = randomUUID();
    await client.publish('', QUEUES.inventory, '{"not": "an event"}', {
      messageId,
      contentType: 'application/json',
      headers: { 'x-death': forged },
    });
    const parked = (await parkedFrom(messageId, [QUEUES.inventory])).get(QUEUES.inventory) as ConsumeMessage;
    expect(headerOf(parked, PARK_HEADERS.reason)).toMatch(/unknown event type/);
    expect(headerOf(parked, PARK_HEADERS.attempts)).toBe('1');
  });

  it('the consumers keep running: an order placed afterwards completes', async () => {
    const placed = await postOrder(`${system.baseUrl}`, { orderId: 'after-bad-messages', user: 'gayal', items: ['item1', 'item2'] });
    expect(placed.status).toBe(201);
    await waitForStatus(`${system.baseUrl}`, 'after-bad-messages', 'completed');
  });
});
