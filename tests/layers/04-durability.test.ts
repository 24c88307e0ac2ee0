// Layer 4: durable topology, persistent messages, and publishConfirmed, which resolves only when the
// broker has the message and rejects when it is refused, unroutable, or the channel dies first.
import { describe, expect, it } from 'vitest';
import { PublishRejectedError } from '../../shared/layers/04-durability.ts';
import { newEvent } from '../../shared/messages/events.ts';
import { buildTopology, EXCHANGES, exchangeSpec, QUEUES, queueSpec } from '../../shared/topology/topology.ts';
import { codec } from '../../solutions/layers/01-publish-consume.ts';
import { durability } from '../../solutions/layers/04-durability.ts';
import { referenceLayers } from '../../solutions/layers/index.ts';
import { declareTopology } from '../../solutions/runtime/declare-topology.ts';
import { useVhostChannel } from '../support/vhost.ts';

const topology = buildTopology();

const broker = useVhostChannel('layer-04', {
  setup: async ({ channel }) => {
    await declareTopology(channel, topology, referenceLayers, 'classic');
  },
});

const paymentSucceeded = () =>
  codec.encode(newEvent('payment.success', { orderId: 'order-4', source: 'payment', payload: { paymentId: 'p4', amount: 999 } }));

describe('durable topology', () => {
  it('declares every queue and exchange durable, as the management API reports', async () => {
    const name = encodeURIComponent(broker.vhost.vhost);
    const queues = await broker.vhost.api.request<{ name: string; durable: boolean; auto_delete: boolean }[]>('GET', `/queues/${name}`);
    for (const spec of topology.queues) {
      expect(
        queues.find((q) => q.name === spec.name),
        `🚨 ${spec.name} should be durable`,
      ).toMatchObject({ durable: true, auto_delete: false });
    }
    const exchanges = await broker.vhost.api.request<{ name: string; durable: boolean; arguments: Record<string, unknown> }[]>(
      'GET',
      `/exchanges/${name}`,
    );
    for (const spec of topology.exchanges) {
      expect(
        exchanges.find((e) => e.name === spec.name),
        `🚨 ${spec.name} should be durable`,
      ).toMatchObject({ durable: true });
    }
    expect(exchanges.find((e) => e.name === EXCHANGES.order)?.arguments).toEqual({ 'alternate-exchange': EXCHANGES.unroutable });
  });

  it('asks for quorum only for replicated queues without priority, and only when quorum is wanted', () => {
    expect(durability.queueOptions(queueSpec(topology, QUEUES.audit), 'quorum').arguments).toEqual({ 'x-queue-type': 'quorum' });
    expect(durability.queueOptions(queueSpec(topology, QUEUES.audit), 'classic').arguments).toEqual({ 'x-queue-type': 'classic' });
    expect(durability.queueOptions({ ...queueSpec(topology, QUEUES.paymentRpc), replicate: false }, 'quorum').arguments).toEqual({
      'x-queue-type': 'classic',
    });
    const priorityQueue = { ...queueSpec(topology, QUEUES.audit), maxPriority: 5 };
    expect(durability.queueOptions(priorityQueue, 'quorum').arguments).toEqual({ 'x-queue-type': 'classic' });
    expect(durability.exchangeOptions(exchangeSpec(topology, EXCHANGES.audit))).toEqual({
      durable: true,
      autoDelete: false,
      arguments: {},
    });
  });
});

describe('publishConfirmed', () => {
  it('resolves for a routable message, which arrives persistent', async () => {
    const message = paymentSucceeded();
    await durability.publishConfirmed(broker.channel, EXCHANGES.order, 'payment.success', message);
    const received = await broker.channel.get(QUEUES.shipping, { noAck: true });
    expect(received && received.properties).toMatchObject({ messageId: message.options.messageId, deliveryMode: 2 });
    await broker.channel.purgeQueue(QUEUES.inventory);
    await broker.channel.purgeQueue(QUEUES.order);
    await broker.channel.purgeQueue(QUEUES.audit);
  });

  it('gives a message without an id one (returns are matched by id)', async () => {
    await durability.publishConfirmed(broker.channel, '', QUEUES.unroutable, { content: Buffer.from('{}'), options: {} });
    const received = await broker.channel.get(QUEUES.unroutable, { noAck: true });
    expect(received && received.properties.messageId).toEqual(expect.any(String));
  });

  it('resolves for a key nobody is bound to on order.exchange: its alternate exchange takes it', async () => {
    await durability.publishConfirmed(broker.channel, EXCHANGES.order, 'refund.issued', paymentSucceeded());
    expect((await broker.channel.checkQueue(QUEUES.unroutable)).messageCount).toBe(1);
    await broker.channel.purgeQueue(QUEUES.unroutable);
  });

  it('rejects an unroutable message on an exchange without an alternate exchange', async () => {
    const publishing = durability.publishConfirmed(broker.channel, EXCHANGES.retry, 'no.such.queue', paymentSucceeded());
    await expect(publishing).rejects.toThrow(PublishRejectedError);
    await expect(publishing).rejects.toThrow(/unroutable: exchange 'retry\.exchange' has no binding for routing key 'no\.such\.queue'/);
  });

  it('rejects a message the broker nacks: a full queue with overflow reject-publish', async () => {
    await broker.channel.assertQueue('bounded.queue', { durable: true, arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } });
    await durability.publishConfirmed(broker.channel, '', 'bounded.queue', paymentSucceeded());
    const publishing = durability.publishConfirmed(broker.channel, '', 'bounded.queue', paymentSucceeded());
    await expect(publishing).rejects.toThrow(new PublishRejectedError('nacked by the broker'));
    expect((await broker.channel.checkQueue('bounded.queue')).messageCount).toBe(1);
  });

  it('settles each of many publishes in flight on one channel with its own answer', async () => {
    await broker.channel.assertQueue('full.queue', { durable: true, arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } });
    const publishes = [
      durability.publishConfirmed(broker.channel, EXCHANGES.retry, 'nobody.listens', paymentSucceeded()), // returned
      durability.publishConfirmed(broker.channel, '', 'full.queue', paymentSucceeded()), // fills it
      durability.publishConfirmed(broker.channel, '', 'full.queue', paymentSucceeded()), // nacked
      durability.publishConfirmed(broker.channel, '', QUEUES.unroutable, { content: Buffer.from('{}'), options: {} }),
    ];
    const outcomes = await Promise.allSettled(publishes);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'fulfilled', 'rejected', 'fulfilled']);
    expect(
      outcomes.map((outcome) => (outcome.status === 'rejected' ? (outcome.reason as PublishRejectedError).reason.split(':')[0] : '')),
    ).toEqual(['unroutable', '', 'nacked by the broker', '']);
    await broker.channel.purgeQueue(QUEUES.unroutable);
  });

  it('gives a message published again with the id of a returned one a fresh verdict', async () => {
    const message = paymentSucceeded();
    await broker.channel.assertExchange('late.exchange', 'direct', { durable: true });
    await expect(durability.publishConfirmed(broker.channel, 'late.exchange', 'payment.success', message)).rejects.toThrow(
      PublishRejectedError,
    );
    await broker.channel.bindQueue(QUEUES.unroutable, 'late.exchange', 'payment.success');
    await durability.publishConfirmed(broker.channel, 'late.exchange', 'payment.success', message);
    expect((await broker.channel.checkQueue(QUEUES.unroutable)).messageCount).toBe(1);
    await broker.channel.purgeQueue(QUEUES.unroutable);
  });

  it("rejects with the broker's reason when the channel is closed under it", async () => {
    const doomed = await broker.connection.createConfirmChannel();
    await expect(durability.publishConfirmed(doomed, 'no.such.exchange', 'x', paymentSucceeded())).rejects.toThrow(
      /NOT_FOUND - no exchange 'no\.such\.exchange'/,
    );
    // The channel is gone now; a further publish is refused, as a rejection rather than a throw.
    await expect(durability.publishConfirmed(doomed, EXCHANGES.order, 'payment.success', paymentSucceeded())).rejects.toThrow(/NOT_FOUND/);
  });

  it('rejects pending publishes when the channel is closed by us before the confirms arrive', async () => {
    const closing = await broker.connection.createConfirmChannel();
    const publishing = durability.publishConfirmed(closing, EXCHANGES.order, 'refund.issued', paymentSucceeded());
    await closing.close();
    await expect(publishing).rejects.toThrow();
    await expect(publishing).rejects.not.toBeInstanceOf(PublishRejectedError);
    await broker.channel.purgeQueue(QUEUES.unroutable);
  });

  it('waits out backpressure and adds no listeners per publish', async () => {
    // A tiny write buffer makes publish() return false almost at once.
    const tight = await broker.connection.createConfirmChannel({ highWaterMark: 2 });
    await tight.assertQueue('bulk.queue', { durable: true });
    let drains = 0;
    tight.on('drain', () => drains++);
    await durability.publishConfirmed(tight, '', 'bulk.queue', paymentSucceeded()); // the per-channel listeners exist from here on
    const listeners = () =>
      tight
        .eventNames()
        .map((event) => `${String(event)}:${tight.listenerCount(event)}`)
        .sort();
    const before = listeners();

    const content = Buffer.alloc(16 * 1024, 'x');
    await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        durability.publishConfirmed(tight, '', 'bulk.queue', { content, options: { messageId: `bulk-${i}` } }),
      ),
    );

    expect(drains, '🚨 the test should have filled the write buffer at least once').toBeGreaterThan(0);
    expect((await tight.checkQueue('bulk.queue')).messageCount).toBe(301);
    expect(listeners(), '🚨 publishConfirmed should not leave listeners behind').toEqual(before);
    await tight.close();
  });
});
