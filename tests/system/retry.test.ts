// Delayed retries: a delivery confirmation that arrives before its shipment exists fails with
// NotReadyError, waits in shipping.queue.retry and comes back (x-death counts the rounds) until the
// shipment is there; one that never can succeed is parked after maxAttempts with the reason.
import { beforeAll, describe, expect, it } from 'vitest';
import { hasDelayedRetry } from '../../shared/broker/broker-features.ts';
import { PARK_HEADERS } from '../../shared/layers/index.ts';
import { newEvent } from '../../shared/messages/events.ts';
import { DEFAULT_TOPOLOGY_SETTINGS, EXCHANGES, QUEUES } from '../../shared/topology/topology.ts';
import { AuditStore } from '../../solutions/services/audit/audit-store.ts';
import type { RunningSystem } from '../../solutions/system.ts';
import { headerOf, rejectionsFrom, TestBrokerClient, type MessageCollector } from './support/broker-client.ts';
import { postOrder, waitForStatus } from './support/order-api.ts';
import { countOf, waitForAudit } from './support/service-state.ts';
import { useSystemUnderTest } from './support/system-under-test.ts';

// Enough rounds that the order placed after the second failure surely has its shipment in time.
const MAX_ATTEMPTS = 10;
const RETRY_DELAY_MS = 250;

describe('retry, then success or parking', () => {
  const sut = useSystemUnderTest('retry');
  let system: RunningSystem;
  let client: TestBrokerClient;
  let retries: MessageCollector;
  let deadLetters: MessageCollector;

  beforeAll(async () => {
    system = await sut.start({
      // 'manual': no simulated confirmation, so only the one this test publishes can complete an order.
      config: {
        deliveryDelayMs: 'manual',
        topology: { ...DEFAULT_TOPOLOGY_SETTINGS, retryDelayMs: RETRY_DELAY_MS, maxAttempts: MAX_ATTEMPTS },
      },
    });
    client = await TestBrokerClient.connect(sut.vhost.url);
    // retry.exchange routes shipping's rejects by queue name; our own binding sees a copy of each, x-death included.
    retries = await client.probe(EXCHANGES.retry, QUEUES.shipping);
    deadLetters = await client.collect(QUEUES.deadLetter);
    return () => client.close();
  });

  const confirmDelivery = async (orderId: string) => {
    const event = newEvent('delivery.confirmed', { orderId, source: 'order', payload: { confirmedBy: 'customer' } });
    await client.publishEvent(EXCHANGES.order, 'delivery.confirmed', event);
    return event;
  };

  it('a confirmation that comes too early is retried until the shipment exists, then completes the order', async () => {
    const confirmation = await confirmDelivery('arrives-late');

    // Two rounds through the retry queue, x-death counting each.
    await retries.waitFor(
      (message) => message.properties.messageId === confirmation.messageId && rejectionsFrom(message, QUEUES.shipping) >= 2,
      'the second retry',
    );
    const rounds = retries.withMessageId(confirmation.messageId).map((message) => rejectionsFrom(message, QUEUES.shipping));
    expect(rounds.slice(0, 2), '🚨 x-death should count one more rejection each round').toEqual([1, 2]);
    expect(
      sut.logs.linesOf('shipping').filter((line) => line.includes(confirmation.messageId) && line.includes('which has no shipment yet'))
        .length,
    ).toBeGreaterThanOrEqual(2);

    // Now the order arrives; its shipment appears and the waiting confirmation goes through.
    expect((await postOrder(`${system.baseUrl}`, { orderId: 'arrives-late', user: 'gayal', items: ['item1'] })).status).toBe(201);
    const order = await waitForStatus(`${system.baseUrl}`, 'arrives-late', 'completed');
    expect(order.history.map((entry) => entry.status)).toEqual(['pending', 'paid', 'shipped', 'completed']);

    const trail = await waitForAudit(new AuditStore(system.runtime('audit').db), 'arrives-late', ['shipping.delivered', 'order.completed']);
    expect(trail.filter((entry) => entry.type === 'delivery.confirmed').map((entry) => entry.messageId)).toEqual([confirmation.messageId]);
    expect(countOf(trail, 'shipping.delivered')).toBe(1);
    expect(deadLetters.withMessageId(confirmation.messageId), '🚨 a message that succeeded on a retry is not parked').toEqual([]);
  });

  it(`a confirmation that keeps failing is parked after ${MAX_ATTEMPTS} attempts with the reason`, async () => {
    const confirmation = await confirmDelivery('never-shipped');

    const parked = await deadLetters.waitFor(
      (message) => message.properties.messageId === confirmation.messageId,
      'the parked confirmation',
      20_000,
    );
    expect(headerOf(parked, PARK_HEADERS.reason)).toBe(
      `failed ${MAX_ATTEMPTS} times, last error: delivery confirmed for order never-shipped, which has no shipment yet`,
    );
    expect(headerOf(parked, PARK_HEADERS.queue)).toBe(QUEUES.shipping);
    expect(headerOf(parked, PARK_HEADERS.attempts)).toBe(String(MAX_ATTEMPTS));
    expect(rejectionsFrom(parked, QUEUES.shipping)).toBe(MAX_ATTEMPTS - 1);
    expect(retries.withMessageId(confirmation.messageId).map((message) => rejectionsFrom(message, QUEUES.shipping))).toEqual(
      Array.from({ length: MAX_ATTEMPTS - 1 }, (_, round) => round + 1),
    );
    expect(deadLetters.withMessageId(confirmation.messageId)).toHaveLength(1);
  });
});

// With quorum queues the place a retry waits depends on the broker: in the queue itself from
// RabbitMQ 4.3 (its delayed retry, counted in x-delivery-count), through <queue>.retry before.
describe('retry with quorum queues (QUEUE_TYPE=quorum): held by the queue on RabbitMQ 4.3+, through the retry queue on 3.x', () => {
  const sut = useSystemUnderTest('retry-quorum');
  const attempts = 3;
  let client: TestBrokerClient;
  let deadLetters: MessageCollector;
  let delayedRetry: boolean;

  beforeAll(async () => {
    await sut.start({
      services: ['shipping'],
      config: {
        deliveryDelayMs: 'manual',
        topology: { ...DEFAULT_TOPOLOGY_SETTINGS, retryDelayMs: 100, maxAttempts: attempts, queueType: 'quorum' },
      },
    });
    delayedRetry = hasDelayedRetry((await sut.vhost.api.overview()).rabbitmq_version);
    client = await TestBrokerClient.connect(sut.vhost.url);
    deadLetters = await client.collect(QUEUES.deadLetter);
    return () => client.close();
  });

  it(`a confirmation that keeps failing is tried ${attempts} times, then parked`, async () => {
    const event = newEvent('delivery.confirmed', {
      orderId: 'never-shipped-quorum',
      source: 'order',
      payload: { confirmedBy: 'customer' },
    });
    await client.publishEvent(EXCHANGES.order, 'delivery.confirmed', event);
    const parked = await deadLetters.waitFor((message) => message.properties.messageId === event.messageId, 'the parked confirmation');
    expect(headerOf(parked, PARK_HEADERS.attempts)).toBe(String(attempts));
    const queues = (await sut.vhost.api.request<{ name: string }[]>('GET', `/queues/${encodeURIComponent(sut.vhost.vhost)}`)).map(
      (q) => q.name,
    );
    if (delayedRetry) {
      expect(queues, '🚨 on 4.3+ the queue holds its retries: no retry queue').not.toContain(`${QUEUES.shipping}.retry`);
      expect(parked.properties.headers?.['x-death'], '🚨 nothing dead-lettered on the way').toBeUndefined();
    } else {
      expect(queues).toContain(`${QUEUES.shipping}.retry`);
      expect(rejectionsFrom(parked, QUEUES.shipping)).toBe(attempts - 1);
    }
    const lines = sut.logs.linesOf('shipping').filter((line) => line.includes(event.messageId));
    expect(lines.some((line) => line.includes(`failed on attempt ${attempts - 1}`))).toBe(true);
  });
});
