// Layer 1: events survive the trip through a real queue, and every kind of bad message is refused
// with a reason precise enough to act on.
import type { Options } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { MalformedMessageError } from '../../shared/layers/01-publish-consume.ts';
import { newEvent } from '../../shared/messages/events.ts';
import { codec } from '../../solutions/layers/01-publish-consume.ts';
import { useVhostChannel } from '../support/vhost.ts';
import { throughQueue } from '../../grader/checks/support.ts';

const broker = useVhostChannel('layer-01');

/** Sends a message through the broker (a fresh queue) and returns what a consumer would receive. */
const throughBroker = (content: Buffer, options: Options.Publish) => throughQueue(broker.channel, content, options);

function reasonOf(decode: () => unknown): string {
  try {
    decode();
  } catch (error) {
    expect(error, '🚨 decode should throw MalformedMessageError').toBeInstanceOf(MalformedMessageError);
    return (error as MalformedMessageError).reason;
  }
  throw new Error('🚨 decode accepted a malformed message');
}

const orderCreated = () =>
  newEvent('order.created', {
    orderId: 'order-17',
    source: 'order',
    express: true,
    payload: { user: 'ada', items: [{ sku: 'tea', quantity: 2 }] },
  });

describe('codec.encode / decode', () => {
  it('round-trips an event through a real queue with every property set', async () => {
    const event = orderCreated();
    const { content, options } = codec.encode(event);
    const message = await throughBroker(content, options);

    expect(JSON.parse(message.content.toString())).toEqual(event);
    expect(message.properties).toMatchObject({
      contentType: 'application/json',
      messageId: event.messageId,
      correlationId: 'order-17',
      type: 'order.created',
      timestamp: Math.floor(Date.parse(event.occurredAt) / 1000),
      appId: 'order',
      headers: { 'x-schema-version': 1 },
    });
    // Persistence and priority belong to layers 4 and 9.
    expect(message.properties.deliveryMode).toBeUndefined();
    expect(message.properties.priority).toBeUndefined();
    expect(codec.decode(message)).toEqual(event);
  });

  it('round-trips non-ASCII text (accents, other scripts, emoji) as UTF-8', async () => {
    const event = newEvent('order.created', {
      orderId: 'commande-Zoë-東京',
      source: 'order',
      payload: { user: 'Zoë 🍵', items: [{ sku: 'thé-緑茶', quantity: 1 }] },
    });
    const { content, options } = codec.encode(event);
    expect(codec.decode(await throughBroker(content, options))).toEqual(event);
  });

  it('decodes an event published without a content type, and fills schema defaults', async () => {
    const event = newEvent('payment.failed', { orderId: 'order-18', source: 'payment', payload: { reason: 'declined', amount: 1250 } });
    const { express: _omitted, ...withoutExpress } = event;
    const message = await throughBroker(Buffer.from(JSON.stringify(withoutExpress)), {});
    expect(message.properties.contentType).toBeUndefined();
    expect(codec.decode(message)).toEqual({ ...event, express: false });
  });

  it('refuses a body that is not JSON', async () => {
    const message = await throughBroker(Buffer.from('{"type": "order.created",'), { contentType: 'application/json' });
    expect(reasonOf(() => codec.decode(message))).toMatch(/^body is not valid JSON/);
  });

  it('refuses a content type other than application/json', async () => {
    const { content } = codec.encode(orderCreated());
    const message = await throughBroker(content, { contentType: 'text/plain' });
    expect(reasonOf(() => codec.decode(message))).toBe('content type is text/plain, expected application/json');
  });

  it('refuses an unknown event type and names it', async () => {
    const body = { ...orderCreated(), type: 'order.teleported' };
    const message = await throughBroker(Buffer.from(JSON.stringify(body)), { contentType: 'application/json' });
    expect(reasonOf(() => codec.decode(message))).toBe('unknown event type "order.teleported"');
  });

  it('refuses a body that is JSON but not an object', async () => {
    const message = await throughBroker(Buffer.from('42'), { contentType: 'application/json' });
    expect(reasonOf(() => codec.decode(message))).toBe('unknown event type undefined');
  });

  it('names the field path of a schema failure', async () => {
    const event = orderCreated();
    const body = { ...event, payload: { ...event.payload, items: [{ sku: 'tea', quantity: 0 }] } };
    const message = await throughBroker(Buffer.from(JSON.stringify(body)), { contentType: 'application/json' });
    const reason = reasonOf(() => codec.decode(message));
    expect(reason).toMatch(/^order\.created does not match its schema: /);
    expect(reason).toContain('payload.items.0.quantity: ');
  });

  it('names a missing envelope field', async () => {
    const { orderId: _missing, ...body } = orderCreated();
    const message = await throughBroker(Buffer.from(JSON.stringify(body)), { contentType: 'application/json' });
    expect(reasonOf(() => codec.decode(message))).toContain('orderId: ');
  });

  it('refuses a type property that disagrees with the body', async () => {
    const { content, options } = codec.encode(orderCreated());
    const message = await throughBroker(content, { ...options, type: 'payment.success' });
    expect(reasonOf(() => codec.decode(message))).toBe("type property payment.success does not match the body's type order.created");
  });
});
