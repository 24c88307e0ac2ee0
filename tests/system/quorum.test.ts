// On a cluster the queue type is a setting, not a rewrite: with queueType 'quorum' the replicated
// queues (all of ours) are declared as quorum queues (without priority, which quorum queues on 3.10
// lack), and an order still goes all the way through.
import { describe, expect, it } from 'vitest';
import { hasDelayedRetry } from '../../shared/broker/broker-features.ts';
import { DEFAULT_TOPOLOGY_SETTINGS, QUEUES, retryQueueName } from '../../shared/topology/topology.ts';
import { postOrder, SEED_ORDER, waitForStatus } from './support/order-api.ts';
import { FAST_SETTINGS, useSystemUnderTest } from './support/system-under-test.ts';

interface QueueInfo {
  name: string;
  type: string;
  arguments: Record<string, unknown>;
}

describe('the system on quorum queues', () => {
  const sut = useSystemUnderTest('quorum');

  it('declares replicated queues as quorum queues and still completes an order', async () => {
    const system = await sut.start({
      config: { topology: { ...DEFAULT_TOPOLOGY_SETTINGS, ...FAST_SETTINGS.topology, queueType: 'quorum' } },
    });
    const queues = await sut.vhost.api.request<QueueInfo[]>('GET', `/queues/${encodeURIComponent(sut.vhost.vhost)}`);
    const typeOf = (name: string) => queues.find((q) => q.name === name);
    // From RabbitMQ 4.3 a quorum queue holds its own retries: no retry queue then.
    const delayedRetry = hasDelayedRetry((await sut.vhost.api.overview()).rabbitmq_version);
    if (delayedRetry) {
      expect(typeOf(retryQueueName(QUEUES.inventory)), '🚨 on 4.3+ the queue retries in place').toBeUndefined();
      expect(typeOf(QUEUES.inventory)?.arguments).toMatchObject({ 'x-delayed-retry-type': 'failed' });
    }

    for (const name of [
      QUEUES.order,
      QUEUES.inventory,
      QUEUES.payment,
      QUEUES.shipping,
      QUEUES.audit,
      ...(delayedRetry ? [] : [retryQueueName(QUEUES.inventory)]),
      QUEUES.deadLetter,
    ]) {
      expect(typeOf(name)?.type, `🚨 ${name} should be a quorum queue`).toBe('quorum');
      expect(typeOf(name)?.arguments).not.toHaveProperty('x-max-priority');
    }
    // These too: a classic queue on a node that is down cannot be declared, and loses what is routed to it.
    for (const name of [QUEUES.notificationEmail, QUEUES.notificationSms, QUEUES.paymentRpc]) {
      expect(typeOf(name)?.type, `🚨 ${name} should be a quorum queue`).toBe('quorum');
    }

    expect((await postOrder(`${system.baseUrl}`, SEED_ORDER)).status).toBe(201);
    await waitForStatus(`${system.baseUrl}`, SEED_ORDER.orderId, 'completed');
  });
});
