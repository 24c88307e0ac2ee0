// Layer 2: on order.exchange, every event type reaches exactly the service queues SUBSCRIPTIONS
// names, and a routing key nobody is bound to ends up in unroutable.queue instead of vanishing. On
// the headers exchange notification.sms.exchange, only boolean headers that all match reach the SMS queue.
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, type EventType } from '../../shared/messages/events.ts';
import { buildTopology, EXCHANGES, QUEUES, SMS_HEADERS, SUBSCRIPTIONS } from '../../shared/topology/topology.ts';
import { routing } from '../../solutions/layers/02-routing.ts';
import { referenceLayers } from '../../solutions/layers/index.ts';
import { declareTopology } from '../../solutions/runtime/declare-topology.ts';
import { sampleEvent as sampleEventOf } from '../../shared/messages/sample-events.ts';
import { useVhostChannel } from '../support/vhost.ts';

const sampleEvent = (type: EventType) => sampleEventOf(type, { orderId: 'order-1' });

const broker = useVhostChannel('layer-02', {
  setup: async ({ channel }) => {
    await declareTopology(channel, buildTopology(), referenceLayers, 'classic');
  },
});

/** Takes every message out of a queue and returns their `type` properties. */
async function drain(queue: string): Promise<string[]> {
  const types: string[] = [];
  for (
    let message = await broker.channel.get(queue, { noAck: true });
    message;
    message = await broker.channel.get(queue, { noAck: true })
  ) {
    types.push(message.properties.type);
  }
  return types;
}

const serviceQueues = Object.keys(SUBSCRIPTIONS) as (keyof typeof SUBSCRIPTIONS)[];

describe('routing', () => {
  it('routes by event type, express orders under the same key', () => {
    for (const type of EVENT_TYPES) {
      expect(routing.routingKeyFor(sampleEvent(type))).toBe(type);
      expect(routing.routingKeyFor({ ...sampleEvent(type), express: true })).toBe(type);
    }
  });

  it('declares again without error where the topology exists', async () => {
    await routing.declareRoutes(broker.channel, buildTopology(), (spec) => referenceLayers.durability.exchangeOptions(spec));
  });

  it('delivers each event type to exactly the service queues subscribed to it', async () => {
    for (const type of EVENT_TYPES) {
      const event = sampleEvent(type);
      broker.channel.publish(EXCHANGES.order, routing.routingKeyFor(event), Buffer.from(JSON.stringify(event)), { type });
    }
    await broker.channel.waitForConfirms(); // confirmed: routed and enqueued

    for (const service of serviceQueues) {
      const queue = QUEUES[service];
      const expected = [...SUBSCRIPTIONS[service]].sort();
      expect((await broker.channel.checkQueue(queue)).messageCount, `🚨 ${queue} should hold one message per subscribed type`).toBe(
        expected.length,
      );
      expect((await drain(queue)).sort(), `🚨 ${queue} received the wrong event types`).toEqual(expected);
    }
    expect(await drain(QUEUES.unroutable), '🚨 every catalogue event has a subscriber; none should be unroutable').toEqual([]);
  });

  it('sends a routing key nobody is bound to into unroutable.queue, and nowhere else', async () => {
    // Not order.teleported: that would match the audit binding order.* and count as routed.
    broker.channel.publish(EXCHANGES.order, 'refund.issued', Buffer.from('{}'), { type: 'refund.issued' });
    await broker.channel.waitForConfirms();

    expect(await drain(QUEUES.unroutable)).toEqual(['refund.issued']);
    for (const service of serviceQueues) expect(await drain(QUEUES[service])).toEqual([]);
  });

  it('passes a message from notification.sms.exchange to the SMS queue only when all its headers are the boolean true', async () => {
    const { express, textWorthy } = SMS_HEADERS;
    const probes: Array<[string, Record<string, unknown>]> = [
      ['texted', { [express]: true, [textWorthy]: true }],
      ['routine step', { [express]: true, [textWorthy]: false }],
      ['standard order', { [express]: false, [textWorthy]: true }],
      ['strings', { [express]: 'true', [textWorthy]: 'true' }],
      ['no headers', {}],
    ];
    for (const [type, headers] of probes)
      broker.channel.publish(EXCHANGES.notificationSms, 'order.shipped', Buffer.from('{}'), { type, headers });
    await broker.channel.waitForConfirms();
    expect(await drain(QUEUES.notificationSms)).toEqual(['texted']);
  });
});
