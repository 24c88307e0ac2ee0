// Milestone 1: the codec. Messages go through a real queue; decode is fed what a broker delivers.
import { isDeepStrictEqual } from 'node:util';
import type { MessageProperties } from 'amqplib';
import { type DomainEvent, newEvent } from '../../../shared/messages/events.ts';
import { QUEUES } from '../../../shared/topology/topology.ts';
import { MalformedMessageError } from '../../../shared/layers/01-publish-consume.ts';
import { CheckFailure, defineChecks, expectThat } from '../../check.ts';
import { malformedReason, sampleOrderCreated, throughQueue, waitFor } from '../../checks/support.ts';

/** Two events that differ in every property encode derives: type, source, order, express, time in the past. */
function sampleEvents(): DomainEvent[] {
  const paymentFailed = newEvent('payment.failed', {
    orderId: 'o-2',
    source: 'payment',
    express: true,
    payload: { reason: 'card declined', amount: 1200 },
  });
  return [sampleOrderCreated(), { ...paymentFailed, occurredAt: '2024-02-29T12:34:56.250Z' }];
}

/** An event whose text is not ASCII: accents, a non-Latin script and an emoji outside the BMP. */
function nonAsciiEvent(): DomainEvent {
  return newEvent('order.created', {
    orderId: 'commande-Zoë-東京',
    source: 'order',
    payload: { user: 'Zoë Ñúñez 🍵', items: [{ sku: 'thé-vert-緑茶', quantity: 3 }] },
  });
}

/** decode, where refusing is the wrong answer: a MalformedMessageError becomes a failure that quotes its reason. */
function decodeValid(decode: () => DomainEvent, what: string, hint?: string): DomainEvent {
  try {
    return decode();
  } catch (error) {
    if (error instanceof MalformedMessageError)
      throw new CheckFailure(`decode to accept ${what}`, `it refused it: "${error.reason}"`, hint);
    throw error;
  }
}

const show = (value: unknown) => (value === undefined ? 'not set' : JSON.stringify(value));

export const checks = defineChecks('codec', [
  {
    id: '01.properties',
    name: 'encode sets the AMQP properties a consumer reads, and leaves persistence and priority alone',
    hint: 'Each property comes from a field of the event: clause 2 of the contract (README § The contract) says which.',
    async run({ layer, connect }) {
      const channel = await (await connect()).createConfirmChannel();
      for (const event of sampleEvents()) {
        const { content, options } = layer.encode(event);
        const { properties } = await throughQueue(channel, content, options);
        const wanted: Partial<Record<keyof MessageProperties, unknown>> = {
          contentType: 'application/json',
          messageId: event.messageId,
          correlationId: event.orderId,
          type: event.type,
          timestamp: Math.floor(Date.parse(event.occurredAt) / 1000),
          appId: event.source,
        };
        for (const [key, value] of Object.entries(wanted)) {
          const seen = properties[key as keyof MessageProperties];
          const timeHint =
            key === 'timestamp' && typeof seen === 'number' && seen > 1e11
              ? 'AMQP timestamps are whole seconds since 1970, not milliseconds.'
              : key === 'timestamp'
                ? 'The timestamp is when the event happened (its occurredAt), in seconds: not the time of encoding.'
                : undefined;
          expectThat(seen === value, `${event.type}: property ${key} = ${JSON.stringify(value)}`, `${key} ${show(seen)}`, timeHint);
        }
        const version = properties.headers?.['x-schema-version'];
        expectThat(
          version === event.schemaVersion,
          `${event.type}: header x-schema-version = ${event.schemaVersion} (a number)`,
          `x-schema-version ${show(version)}; headers ${JSON.stringify(properties.headers ?? {})}`,
        );
        expectThat(
          properties.deliveryMode === undefined && properties.priority === undefined,
          `${event.type}: no delivery mode and no priority (milestones 4 and 9 decide those)`,
          `deliveryMode ${show(properties.deliveryMode)}, priority ${show(properties.priority)}`,
          'Leave persistent and priority out of the options: later layers add them to what encode returns.',
        );
      }
    },
  },
  {
    id: '01.round-trip',
    name: 'an event survives a trip through a real queue unchanged, non-ASCII text included',
    hint: 'The body is the whole event as JSON in UTF-8, and decode returns what the schema parsed.',
    async run({ layer, connect }) {
      const channel = await (await connect()).createConfirmChannel();
      for (const event of [...sampleEvents(), nonAsciiEvent()]) {
        const { content, options } = layer.encode(event);
        const delivered = await throughQueue(channel, content, options);
        const decoded = decodeValid(() => layer.decode(delivered), `what encode made of ${event.type} ${JSON.stringify(event)}`);
        expectThat(
          isDeepStrictEqual(decoded, event),
          `decode(encode(event)) to equal the event ${JSON.stringify(event)}`,
          JSON.stringify(decoded),
          /[\x80-\uffff]/.test(JSON.stringify(event)) && !isDeepStrictEqual(decoded, event)
            ? 'Buffers and strings convert with an encoding: JSON travels as UTF-8 both ways.'
            : undefined,
        );
      }
      // Published by another tool: no content type, no type property, and no `express` field (the schema's default fills it).
      const { express: _default, ...bare } = sampleOrderCreated('bare-order');
      const delivered = await throughQueue(channel, Buffer.from(JSON.stringify(bare)), {});
      const optional = 'contentType and type are checked only when they are set; return the data the schema parsed, defaults filled.';
      const decoded = decodeValid(
        () => layer.decode(delivered),
        'a valid event published without contentType or type properties (both are optional)',
        optional,
      );
      expectThat(
        isDeepStrictEqual(decoded, { ...bare, express: false }),
        'an event published without contentType or type properties, and without `express`, to decode with express: false (the schema default)',
        () => JSON.stringify(decoded),
        optional,
      );
    },
  },
  {
    id: '01.not-json',
    name: 'decode refuses a body that is not JSON, saying so',
    hint: 'A body that does not parse is malformed for good: throw MalformedMessageError with a reason that says it is not JSON.',
    async run({ layer, connect }) {
      const channel = await (await connect()).createConfirmChannel();
      for (const text of ['order 123 please', '{"type": "order.created",']) {
        const delivered = await throughQueue(channel, Buffer.from(text), { contentType: 'application/json' });
        const reason = malformedReason(() => layer.decode(delivered), `the body ${JSON.stringify(text)}`);
        expectThat(/json/i.test(reason), 'a reason that mentions JSON', `reason "${reason}"`);
      }
    },
  },
  {
    id: '01.schema',
    name: 'decode refuses an event that breaks its schema, naming the field',
    hint: "The schema's issues each carry a path (README § Trust nothing that arrives): put it in the reason.",
    async run({ layer, connect }) {
      const channel = await (await connect()).createConfirmChannel();
      const event = sampleOrderCreated();
      const { orderId: _missing, ...withoutOrderId } = event;
      const cases: Array<{ body: unknown; what: string; field: RegExp; name: string }> = [
        {
          body: { ...event, payload: { ...event.payload, items: [{ sku: 'item1', quantity: 0 }] } },
          what: 'an item with quantity 0',
          field: /payload\W+items\W+0\W+quantity/,
          name: 'payload.items.0.quantity',
        },
        { body: withoutOrderId, what: 'an event without orderId', field: /orderId/, name: 'orderId' },
        { body: { ...event, occurredAt: 'yesterday' }, what: 'occurredAt "yesterday"', field: /occurredAt/, name: 'occurredAt' },
      ];
      for (const { body, what, field, name } of cases) {
        const delivered = await throughQueue(channel, Buffer.from(JSON.stringify(body)), {
          contentType: 'application/json',
          type: event.type,
        });
        const reason = malformedReason(() => layer.decode(delivered), what);
        expectThat(field.test(reason), `for ${what}, a reason naming the field's path (${name})`, `reason "${reason}"`);
      }
    },
  },
  {
    id: '01.unknown-type',
    name: 'decode refuses an event type it does not know, and a body that is not an event at all',
    hint: "Look at the body's type before the schema, and remember that valid JSON is not always an object.",
    async run({ layer, connect }) {
      const channel = await (await connect()).createConfirmChannel();
      const event = { ...sampleOrderCreated(), type: 'order.teleported' };
      const delivered = await throughQueue(channel, Buffer.from(JSON.stringify(event)), { contentType: 'application/json' });
      const reason = malformedReason(() => layer.decode(delivered), 'type "order.teleported"');
      expectThat(reason.includes('order.teleported'), 'a reason naming the unknown type order.teleported', `reason "${reason}"`);
      for (const text of ['null', '42', '"order.created"', '[]']) {
        const odd = await throughQueue(channel, Buffer.from(text), { contentType: 'application/json' });
        malformedReason(() => layer.decode(odd), `the JSON body ${text}, which is not an event object`);
      }
    },
  },
  {
    id: '01.properties-checked',
    name: 'decode refuses a content type other than JSON, and a type property that disagrees with the body',
    hint: 'The properties travel next to the body: when one is set and contradicts it, the message cannot be trusted.',
    async run({ layer, connect }) {
      const channel = await (await connect()).createConfirmChannel();
      const event = sampleOrderCreated();
      const { content, options } = layer.encode(event);
      for (const contentType of ['text/plain', 'application/xml']) {
        const delivered = await throughQueue(channel, content, { ...options, contentType });
        const reason = malformedReason(() => layer.decode(delivered), `content type ${contentType}`);
        expectThat(
          reason.includes(contentType) || /content.?type/i.test(reason),
          `a reason naming the content type ${contentType}`,
          `reason "${reason}"`,
        );
      }
      const delivered = await throughQueue(channel, content, { ...options, type: 'payment.success' });
      const reason = malformedReason(() => layer.decode(delivered), `a type property payment.success on an ${event.type} body`);
      expectThat(/type/i.test(reason), 'a reason saying the type property and the body disagree', `reason "${reason}"`);
    },
  },
  {
    id: '01.in-the-system',
    name: 'with your codec, the order system parks a bad message at once and keeps going',
    hint: 'The service parks at once only what decode refuses with MalformedMessageError; anything else it retries.',
    timeoutMs: 8000,
    async run({ layers, connect, startSystem }) {
      const system = await startSystem({ services: ['inventory'] });
      const channel = await (await connect()).createConfirmChannel();
      channel.publish('order.exchange', 'order.created', Buffer.from('{"not": "an event"'), {
        contentType: 'application/json',
        persistent: true,
      });
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
      expectThat(
        attempts === 1,
        'the malformed message parked at once (x-attempts 1), as MalformedMessageError',
        `it was parked after ${attempts} attempts, reason "${reason}": it was retried like a passing failure`,
      );
      const inventory = system.runtime('inventory');
      await waitFor(
        () => inventory.db.prepare('SELECT 1 AS found FROM reservations WHERE order_id = ?').get(good.orderId),
        'the valid order behind it to be reserved by inventory',
        () => 'no reservation: the consumer stopped after the bad message',
      );
    },
  },
]);
