// Layer 6 on a real broker, with short settings: a failing message waits in `<queue>.retry`, comes
// back with x-death counting its tries, and is parked with the reason after maxAttempts; a poison
// message does not hold up the ones behind it; notifications are parked at once, or expire.
import { type ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { brokerVersion, hasDelayedRetry } from '../../shared/broker/broker-features.ts';
import { type DeadLetterLayer, type FailureOutcome, PARK_HEADERS } from '../../shared/layers/06-dead-letters.ts';
import { type DurabilityLayer, PublishRejectedError } from '../../shared/layers/04-durability.ts';
import { type DomainEvent, newEvent } from '../../shared/messages/events.ts';
import {
  buildTopology,
  DEFAULT_TOPOLOGY_SETTINGS,
  EXCHANGES,
  QUEUES,
  queueSpec,
  retryQueueName,
  routingHeadersFor,
} from '../../shared/topology/topology.ts';
import type { QueueSpec } from '../../shared/topology/types.ts';
import { codec } from '../../solutions/layers/01-publish-consume.ts';
import { durability } from '../../solutions/layers/04-durability.ts';
import { acks } from '../../solutions/layers/05-acks-prefetch.ts';
import { deadLetters } from '../../solutions/layers/06-dead-letters.ts';
import { composeLayers } from '../../solutions/layers/compose.ts';
import { referenceLayers } from '../../solutions/layers/index.ts';
import { declareTopology } from '../../solutions/runtime/declare-topology.ts';
import { eventually } from '../support/eventually.ts';
import { useVhostChannel } from '../support/vhost.ts';

const RETRY_DELAY_MS = 200;
const topology = buildTopology({ ...DEFAULT_TOPOLOGY_SETTINGS, retryDelayMs: RETRY_DELAY_MS, maxAttempts: 3, notificationTtlMs: 300 });
const inventory = queueSpec(topology, QUEUES.inventory);
const email = queueSpec(topology, QUEUES.notificationEmail);

/** Everything that reaches dead-letter.queue during this file. */
const parked: ConsumeMessage[] = [];

const broker = useVhostChannel('layer-06', {
  setup: async ({ channel }) => {
    await declareTopology(channel, topology, referenceLayers, 'classic');
    await channel.consume(QUEUES.deadLetter, (message) => void (message && parked.push(message)), { noAck: true });
  },
});

const paymentFailed = (orderId: string) =>
  newEvent('payment.failed', { orderId, source: 'payment', payload: { reason: 'declined', amount: 700 } });
// Express, so that with its routing headers it reaches the SMS queue too (through notification.sms.exchange).
const orderCreated = (orderId: string) =>
  newEvent('order.created', { orderId, source: 'order', express: true, payload: { user: 'ada', items: [{ sku: 'tea', quantity: 1 }] } });

/** Publishes as a service does: encoded by layer 1, with the routing headers the runtime adds. */
async function publish(event: DomainEvent): Promise<void> {
  const message = codec.encode(event);
  const headers = { ...message.options.headers, ...routingHeadersFor(event) };
  await durability.publishConfirmed(broker.channel, EXCHANGES.order, event.type, { ...message, options: { ...message.options, headers } });
}

const parkedCopiesOf = (event: DomainEvent) => parked.filter((message) => message.properties.messageId === event.messageId);

/** Consumes a queue with a handler and layer 6 (the reference unless given) as the failure handler; returns the outcomes. */
async function consumeWithRetries(
  spec: QueueSpec,
  handler: (message: ConsumeMessage) => Promise<void>,
  layer: DeadLetterLayer = deadLetters,
) {
  const worker = await broker.connection.createConfirmChannel();
  const outcomes: FailureOutcome[] = [];
  const consumer = await acks.consume(worker, spec.name, handler, {
    prefetch: 1,
    onFailure: async (ch, message, error) => void outcomes.push(await layer.handleFailure(ch, message, error, spec)),
  });
  const stop = async () => {
    await consumer.stop();
    await worker.close();
  };
  return { outcomes, stop };
}

describe('deadLetters.queueArguments / attemptsSoFar', () => {
  it('derives the dead-letter arguments from the spec', () => {
    expect(deadLetters.queueArguments(inventory)).toEqual({
      'x-dead-letter-exchange': EXCHANGES.retry,
      'x-dead-letter-routing-key': QUEUES.inventory,
    });
    expect(deadLetters.queueArguments(queueSpec(topology, retryQueueName(QUEUES.inventory)))).toEqual({
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': QUEUES.inventory,
      'x-message-ttl': RETRY_DELAY_MS,
    });
    expect(deadLetters.queueArguments(email)).toEqual({ 'x-dead-letter-exchange': EXCHANGES.deadLetter, 'x-message-ttl': 300 });
    expect(deadLetters.queueArguments(queueSpec(topology, QUEUES.unroutable))).toEqual({});
  });

  it('counts only rejections from the given queue', () => {
    const death = (queue: string, reason: 'rejected' | 'expired', count: number) =>
      ({ queue, reason, count, exchange: '', 'routing-keys': [], time: { '!': 'timestamp', value: 0 } }) as const;
    const properties = {
      headers: {
        'x-death': [
          death(QUEUES.inventory, 'rejected', 2),
          death(retryQueueName(QUEUES.inventory), 'expired', 2),
          death(QUEUES.order, 'rejected', 4),
        ],
      },
    };
    expect(deadLetters.attemptsSoFar({ properties } as never, inventory)).toBe(2);
    expect(deadLetters.attemptsSoFar({ properties: { headers: {} } } as never, inventory)).toBe(0);
  });
});

describe('retry and park on the broker', () => {
  it('retries after the delay with x-death counting up, then parks with the reason after maxAttempts', async () => {
    const event = paymentFailed('order-retry');
    const tries: { at: number; attemptsSoFar: number }[] = [];
    const { outcomes, stop } = await consumeWithRetries(inventory, async (message) => {
      tries.push({ at: Date.now(), attemptsSoFar: deadLetters.attemptsSoFar(message, inventory) });
      throw new Error('stock database unavailable');
    });
    await publish(event);

    const [copy] = await eventually(() => parkedCopiesOf(event).length > 0 && parkedCopiesOf(event), {
      what: 'the message parked in dead-letter.queue',
    });
    await stop();

    expect(
      tries.map((t) => t.attemptsSoFar),
      '🚨 x-death should count one more rejection on each try',
    ).toEqual([0, 1, 2]);
    expect(outcomes).toEqual(['retrying', 'retrying', 'parked']);
    for (let i = 1; i < tries.length; i++) {
      expect(tries[i]!.at - tries[i - 1]!.at, '🚨 a retry should wait out the retry queue TTL').toBeGreaterThanOrEqual(RETRY_DELAY_MS - 10);
    }

    expect(copy!.properties.headers).toMatchObject({
      [PARK_HEADERS.reason]: 'failed 3 times, last error: stock database unavailable',
      [PARK_HEADERS.queue]: QUEUES.inventory,
      [PARK_HEADERS.attempts]: 3,
      // After a retry the message came back through the default exchange, addressed to its queue.
      [PARK_HEADERS.exchange]: '',
      [PARK_HEADERS.routingKey]: QUEUES.inventory,
      'x-first-death-exchange': EXCHANGES.order,
      'x-schema-version': 1,
    });
    expect(Date.parse(copy!.properties.headers?.[PARK_HEADERS.parkedAt])).not.toBeNaN();
    expect(copy!.properties.deliveryMode).toBe(2);
    expect(codec.decode(copy!), '🚨 the parked copy should keep the body and properties').toEqual(event);
    expect(parkedCopiesOf(event)).toHaveLength(1);
    expect((await broker.channel.checkQueue(QUEUES.inventory)).messageCount).toBe(0);
    expect((await broker.channel.checkQueue(retryQueueName(QUEUES.inventory))).messageCount).toBe(0);
  });

  it('does not let a poison message block the message behind it', async () => {
    const poison = paymentFailed('order-poison');
    const healthy = paymentFailed('order-healthy');
    await publish(poison);
    await publish(healthy); // waiting right behind the poison message
    const handled: string[] = [];
    const { stop } = await consumeWithRetries(inventory, async (message) => {
      handled.push(message.properties.messageId);
      if (message.properties.messageId === poison.messageId) throw new Error('cannot parse the order');
    });

    await eventually(() => parkedCopiesOf(poison).length === 1, { what: 'the poison message parked' });
    await stop();
    const ids = handled.map((id) => (id === poison.messageId ? 'poison' : 'healthy'));
    expect(ids, '🚨 the healthy message should be handled between the first and second try of the poison one').toEqual([
      'poison',
      'healthy',
      'poison',
      'poison',
    ]);
    expect(parkedCopiesOf(healthy)).toHaveLength(0);
  });

  it("parks at once under the 'park' policy", async () => {
    const event = orderCreated('order-notify');
    let tries = 0;
    const { outcomes, stop } = await consumeWithRetries(email, async () => {
      tries++;
      throw new Error('mail server refused');
    });
    await publish(event);

    const copy = await eventually(() => parkedCopiesOf(event).find((m) => m.properties.headers?.[PARK_HEADERS.queue] === email.name), {
      what: 'the email parked',
    });
    await stop();
    expect(tries).toBe(1);
    expect(outcomes).toEqual(['parked']);
    expect(copy.properties.headers).toMatchObject({
      [PARK_HEADERS.reason]: 'handler failed: mail server refused',
      [PARK_HEADERS.attempts]: 1,
      // The exchange it was published to, even though it reached the queue through notification.exchange.
      [PARK_HEADERS.exchange]: EXCHANGES.order,
      [PARK_HEADERS.routingKey]: 'order.created',
    });
  });

  it('dead-letters a notification nobody sent in time into dead-letter.queue', async () => {
    const event = orderCreated('order-too-late');
    await publish(event); // no notification consumer: both copies expire after 300 ms

    const copies = await eventually(() => parkedCopiesOf(event).length === 2 && parkedCopiesOf(event), {
      what: 'both notification copies expired',
    });
    const deaths = copies.map((m) => m.properties.headers?.['x-death']?.[0]).map((d) => `${d?.queue}: ${d?.reason}`);
    expect(deaths.sort()).toEqual([`${QUEUES.notificationEmail}: expired`, `${QUEUES.notificationSms}: expired`]);
    await broker.channel.purgeQueue(QUEUES.inventory); // the order.created copy nobody consumed here
  });

  it('keeps the message when parking fails: nacked back to its queue, and the error rethrown', async () => {
    const event = orderCreated('order-unparkable');
    await broker.channel.unbindQueue(QUEUES.deadLetter, EXCHANGES.deadLetter, ''); // parking is now unroutable
    const worker = await broker.connection.createConfirmChannel();
    const failures: unknown[] = [];
    const redelivered: boolean[] = [];
    const { consumerTag } = await worker.consume(QUEUES.notificationEmail, (message) => {
      if (!message) return;
      redelivered.push(message.fields.redelivered);
      if (redelivered.length === 1) deadLetters.park(worker, message, 'testing', email).catch((error: unknown) => failures.push(error));
    });
    try {
      await publish(event);
      await eventually(() => redelivered.length === 2, { what: 'the message back after the failed park' });
      expect(redelivered).toEqual([false, true]);
      expect(failures).toEqual([expect.any(PublishRejectedError)]);
      expect(parkedCopiesOf(event)).toHaveLength(0);
    } finally {
      await worker.cancel(consumerTag);
      await worker.close();
      await broker.channel.bindQueue(QUEUES.deadLetter, EXCHANGES.deadLetter, '');
      await broker.channel.purgeQueue(QUEUES.notificationEmail);
      await broker.channel.purgeQueue(QUEUES.notificationSms);
      await broker.channel.purgeQueue(QUEUES.inventory);
    }
  });
});

// The reference layer 6 parks through layer 4. It takes that layer from the composition, so where a
// learner's layer 4 is composed in (the grader's checks of milestone 4), theirs publishes the copies.
describe('layer 6 in the composition (compose.ts)', () => {
  it('keeps the reference layer 6 on the reference layer 4, and a layer 6 given in its place', () => {
    expect(composeLayers().deadLetters).toBe(referenceLayers.deadLetters);
    const mine: DeadLetterLayer = { ...deadLetters };
    expect(composeLayers({ durability: { ...durability }, deadLetters: mine }).deadLetters).toBe(mine);
  });

  it('parks through the composed layer 4, not the reference one it would otherwise import', async () => {
    const published: string[] = [];
    // Another layer 4: it marks each message it publishes, so the parked copy shows whose it was.
    const layer4: DurabilityLayer = {
      ...durability,
      async publishConfirmed(channel, exchange, routingKey, message) {
        published.push(`${exchange} ${routingKey}`);
        const headers = { ...message.options.headers, 'x-published-by': 'the composed layer 4' };
        await durability.publishConfirmed(channel, exchange, routingKey, { ...message, options: { ...message.options, headers } });
      },
    };
    const composed = composeLayers({ durability: layer4 });
    expect(composed.deadLetters, '🚨 a replaced layer 4 needs layer 6 built on it').not.toBe(referenceLayers.deadLetters);

    const event = orderCreated('order-composed');
    const { outcomes, stop } = await consumeWithRetries(
      email,
      async () => {
        throw new Error('mail server refused');
      },
      composed.deadLetters,
    );
    try {
      await publish(event);
      const copy = await eventually(() => parkedCopiesOf(event).find((m) => m.properties.headers?.[PARK_HEADERS.queue] === email.name), {
        what: 'the email parked',
      });
      // The copy can arrive before the park's confirmation does, and only then is the outcome known.
      await eventually(() => outcomes.length > 0, { what: 'handleFailure to settle' });
      expect(outcomes).toEqual(['parked']);
      expect(published, '🚨 layer 6 should park through the composed layer 4').toEqual([`${EXCHANGES.deadLetter} ${email.name}`]);
      expect(copy.properties.headers).toMatchObject({
        'x-published-by': 'the composed layer 4',
        [PARK_HEADERS.reason]: 'handler failed: mail server refused',
      });
    } finally {
      await stop();
      await broker.channel.purgeQueue(QUEUES.notificationSms);
      await broker.channel.purgeQueue(QUEUES.inventory);
    }
  });
});

describe('on RabbitMQ 4.3+ with quorum queues: the queue itself holds and counts the retries', () => {
  const settings = { ...DEFAULT_TOPOLOGY_SETTINGS, retryDelayMs: RETRY_DELAY_MS, maxAttempts: 3, notificationTtlMs: 300 };
  const quorumTopology = buildTopology({ ...settings, queueType: 'quorum', delayedRetry: true });
  const spec = queueSpec(quorumTopology, QUEUES.inventory);
  const deadLettered: ConsumeMessage[] = [];
  // On 3.x the quorum queues take the delayed-retry arguments and ignore them: the broker test below is skipped there.
  const quorum = useVhostChannel('layer-06-delayed', {
    setup: async ({ channel }) => {
      await declareTopology(channel, quorumTopology, referenceLayers, 'quorum');
      await channel.consume(QUEUES.deadLetter, (message) => void (message && deadLettered.push(message)), { noAck: true });
    },
  });

  it('declares no retry queue there, and gives each retrying queue the delayed retry, a delivery limit and the dead-letter exchange', () => {
    const names = quorumTopology.queues.map((q) => q.name);
    expect(names).not.toContain(retryQueueName(QUEUES.inventory));
    expect(quorumTopology.bindings.filter((b) => b.source === EXCHANGES.retry)).toEqual([]);
    expect(buildTopology({ ...settings, queueType: 'classic', delayedRetry: true }).queues.map((q) => q.name)).toContain(
      retryQueueName(QUEUES.inventory),
    );
    expect(deadLetters.queueArguments(spec)).toEqual({
      'x-delayed-retry-type': 'failed',
      'x-delayed-retry-min': RETRY_DELAY_MS,
      'x-delayed-retry-max': RETRY_DELAY_MS * 2,
      'x-delivery-limit': 2,
      'x-dead-letter-exchange': EXCHANGES.deadLetter,
      'x-dead-letter-routing-key': QUEUES.inventory,
    });
    const headers = { 'x-delivery-count': 2, 'x-death': [{ queue: QUEUES.inventory, reason: 'rejected', count: 5 }] };
    expect(deadLetters.attemptsSoFar({ properties: { headers } } as never, spec), '🚨 x-delivery-count, not x-death').toBe(2);
    expect(deadLetters.attemptsSoFar({ properties: { headers: {} } } as never, spec)).toBe(0);
    expect(deadLetters.attemptsSoFar({ properties: { headers: { 'x-delivery-count': 'two' } } } as never, spec)).toBe(0);
  });

  it('rejects a failing message back into its queue, which holds it the delay and counts it, then parks it after maxAttempts', async (context) => {
    if (!hasDelayedRetry(brokerVersion(quorum.connection))) context.skip();
    const event = paymentFailed('order-delayed-retry');
    const tries: { at: number; deliveryCount: unknown; redelivered: boolean }[] = [];
    const worker = await quorum.connection.createConfirmChannel();
    const outcomes: FailureOutcome[] = [];
    const consumer = await acks.consume(
      worker,
      spec.name,
      async (message) => {
        const { headers } = message.properties;
        tries.push({ at: Date.now(), deliveryCount: headers?.['x-delivery-count'], redelivered: message.fields.redelivered });
        throw new Error('stock database unavailable');
      },
      {
        prefetch: 1,
        onFailure: async (ch, message, error) => void outcomes.push(await deadLetters.handleFailure(ch, message, error, spec)),
      },
    );
    await durability.publishConfirmed(quorum.channel, EXCHANGES.order, event.type, codec.encode(event));
    const copy = await eventually(() => deadLettered.find((m) => m.properties.messageId === event.messageId), {
      what: 'the message parked in dead-letter.queue',
    });
    await consumer.stop();
    await worker.close();

    expect(outcomes).toEqual(['retrying', 'retrying', 'parked']);
    expect(
      tries.map((t) => t.deliveryCount ?? 0),
      '🚨 the queue counts each reject',
    ).toEqual([0, 1, 2]);
    expect(tries.map((t) => t.redelivered)).toEqual([false, true, true]);
    // Linear back-off: the delay, then twice the delay.
    expect(tries[1]!.at - tries[0]!.at).toBeGreaterThanOrEqual(RETRY_DELAY_MS - 10);
    expect(tries[2]!.at - tries[1]!.at).toBeGreaterThanOrEqual(2 * RETRY_DELAY_MS - 10);
    expect(copy.properties.headers).toMatchObject({ [PARK_HEADERS.attempts]: 3, [PARK_HEADERS.queue]: QUEUES.inventory });
    expect(copy.properties.headers?.['x-death'], '🚨 nothing was dead-lettered on the way').toBeUndefined();
    expect((await quorum.channel.checkQueue(QUEUES.inventory)).messageCount).toBe(0);
  });

  it('dead-letters a message nobody parks (its consumer rejects it every time) on its maxAttempts-th failure', async (context) => {
    if (!hasDelayedRetry(brokerVersion(quorum.connection))) context.skip();
    const event = paymentFailed('order-delivery-limit');
    const consumer = await quorum.connection.createChannel();
    await consumer.prefetch(1);
    let deliveries = 0;
    await consumer.consume(spec.name, (message) => {
      if (!message) return;
      deliveries++;
      consumer.reject(message, true);
    });
    await durability.publishConfirmed(quorum.channel, EXCHANGES.order, event.type, codec.encode(event));
    const dead = await eventually(() => deadLettered.find((m) => m.properties.messageId === event.messageId), {
      what: 'the message dead-lettered at its delivery limit',
    });
    await consumer.close();
    expect(deliveries).toBe(3);
    expect(dead.properties.headers?.['x-death']?.[0]).toMatchObject({ queue: QUEUES.inventory, reason: 'delivery_limit' });
  });
});
