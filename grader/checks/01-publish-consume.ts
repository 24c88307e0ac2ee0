// Milestone 1: the codec. Messages go through a real queue; decode is fed what a broker delivers.
import { isDeepStrictEqual } from 'node:util';
import { newEvent } from '../../shared/messages/events.ts';
import { QUEUES } from '../../shared/topology/topology.ts';
import { defineChecks, expectThat } from '../check.ts';
import { malformedReason, sampleOrderCreated, throughQueue, waitFor } from './support.ts';

export const checks = defineChecks('codec', [
  {
    id: '01.properties',
    name: 'encode sets the AMQP properties a consumer reads',
    hint: 'Set contentType, messageId, correlationId (the order id), type, timestamp (Unix seconds), appId and the x-schema-version header in the options.',
    async run({ layer, connect }) {
      const channel = await (await connect()).createConfirmChannel();
      const event = sampleOrderCreated();
      const { content, options } = layer.encode(event);
      const { properties } = await throughQueue(channel, content, options);
      const wanted = {
        contentType: 'application/json',
        messageId: event.messageId,
        correlationId: event.orderId,
        type: event.type,
        timestamp: Math.floor(Date.parse(event.occurredAt) / 1000),
        appId: event.source,
      };
      for (const [key, value] of Object.entries(wanted)) {
        const seen = properties[key as keyof typeof properties];
        expectThat(seen === value, `property ${key} = ${JSON.stringify(value)}`, `${key} = ${JSON.stringify(seen)}`);
      }
      const version = properties.headers?.['x-schema-version'];
      expectThat(version === event.schemaVersion, `header x-schema-version = ${event.schemaVersion}`, `x-schema-version = ${JSON.stringify(version)}`);
    },
  },
  {
    id: '01.round-trip',
    name: 'an event survives a trip through a real queue unchanged',
    hint: 'The body is the whole event as JSON; decode parses it back with DomainEventSchema.',
    async run({ layer, connect }) {
      const channel = await (await connect()).createConfirmChannel();
      for (const event of [
        sampleOrderCreated(),
        newEvent('payment.failed', { orderId: 'o-2', source: 'payment', express: true, payload: { reason: 'card declined', amount: 1200 } }),
      ]) {
        const { content, options } = layer.encode(event);
        const decoded = layer.decode(await throughQueue(channel, content, options));
        expectThat(isDeepStrictEqual(decoded, event), `decode(encode(event)) to equal the event ${JSON.stringify(event)}`, JSON.stringify(decoded));
      }
    },
  },
  {
    id: '01.not-json',
    name: 'decode refuses a body that is not JSON, saying so',
    hint: 'Wrap JSON.parse in try/catch and throw new MalformedMessageError("body is not valid JSON ...").',
    async run({ layer, connect }) {
      const channel = await (await connect()).createConfirmChannel();
      const delivered = await throughQueue(channel, Buffer.from('order 123 please'), { contentType: 'application/json' });
      const reason = malformedReason(() => layer.decode(delivered), 'a body that is not JSON');
      expectThat(/json/i.test(reason), 'a reason that mentions JSON', `reason "${reason}"`);
    },
  },
  {
    id: '01.schema',
    name: 'decode refuses an event that breaks its schema, naming the field',
    hint: 'DomainEventSchema.safeParse(body) gives issues with a path: put the path (like payload.items.0.quantity) in the reason.',
    async run({ layer, connect }) {
      const channel = await (await connect()).createConfirmChannel();
      const event = sampleOrderCreated();
      const broken = { ...event, payload: { ...event.payload, items: [{ sku: 'item1', quantity: 0 }] } };
      const delivered = await throughQueue(channel, Buffer.from(JSON.stringify(broken)), { contentType: 'application/json', type: event.type });
      const reason = malformedReason(() => layer.decode(delivered), 'an item with quantity 0');
      expectThat(reason.includes('quantity'), 'a reason naming the field (quantity)', `reason "${reason}"`);
    },
  },
  {
    id: '01.unknown-type',
    name: 'decode refuses an event type it does not know',
    hint: 'Check body.type against the catalogue (isEventType) before validating, and name the type in the reason.',
    async run({ layer, connect }) {
      const channel = await (await connect()).createConfirmChannel();
      const event = { ...sampleOrderCreated(), type: 'order.teleported' };
      const delivered = await throughQueue(channel, Buffer.from(JSON.stringify(event)), { contentType: 'application/json' });
      const reason = malformedReason(() => layer.decode(delivered), 'type "order.teleported"');
      expectThat(reason.includes('order.teleported'), 'a reason naming the unknown type order.teleported', `reason "${reason}"`);
    },
  },
  {
    id: '01.in-the-system',
    name: 'with your codec, the order system parks a bad message at once and keeps going',
    hint: 'decode must throw MalformedMessageError (not return undefined, not throw something else) so the service can park the message.',
    timeoutMs: 8000,
    async run({ layers, connect, startSystem }) {
      const system = await startSystem({ services: ['inventory'] });
      const channel = await (await connect()).createConfirmChannel();
      channel.publish('order.exchange', 'order.created', Buffer.from('{"not": "an event"'), { contentType: 'application/json', persistent: true });
      const good = sampleOrderCreated('in-the-system');
      const encoded = layers.codec.encode(good);
      channel.publish('order.exchange', 'order.created', encoded.content, encoded.options);
      await channel.waitForConfirms();
      const parked = await waitFor(
        async () => (await channel.get(QUEUES.deadLetter, { noAck: true })) || undefined,
        'the malformed message in dead-letter.queue',
        () => 'dead-letter.queue stayed empty',
      );
      // Parked on the first attempt: the service recognised it as malformed instead of retrying it.
      const reason = String(parked.properties.headers?.['x-failure-reason'] ?? '');
      const attempts = parked.properties.headers?.['x-attempts'];
      expectThat(attempts === 1, 'the malformed message parked at once (x-attempts 1), as MalformedMessageError', `it was parked after ${attempts} attempts, reason "${reason}": it was retried like a passing failure`);
      const inventory = system.runtime('inventory');
      await waitFor(
        () => inventory.db.prepare('SELECT 1 AS found FROM reservations WHERE order_id = ?').get(good.orderId),
        'the valid order behind it to be reserved by inventory',
        () => 'no reservation: the consumer stopped after the bad message',
      );
    },
  },
]);
