// Re-driving stalled orders (solutions/runtime/stall-watch.ts): a message the broker dropped, as a
// quorum queue can while it dead-letters during a leader election, is taken away here on purpose by
// a consumer of the test's own. The service that notices the gap asks for a re-drive (saga.stalled),
// the publisher sends its events again under their first message ids, and the order ends, with
// nothing applied twice.
import { describe, expect, it } from 'vitest';
import { QUEUES } from '../../shared/topology/topology.ts';
import { AuditStore } from '../../solutions/services/audit/audit-store.ts';
import { ShipmentStore } from '../../solutions/services/shipping/shipment-store.ts';
import { TestBrokerClient } from './support/broker-client.ts';
import { postOrder, waitForStatus } from './support/order-api.ts';
import { countOf, waitForAudit, type AuditEntry } from './support/service-state.ts';
import { useSystemUnderTest } from './support/system-under-test.ts';

const STALL_AFTER_MS = 1000;

/** Every event type of the trail with more than one message id: an effect published twice. */
function publishedTwice(trail: AuditEntry[]): string[] {
  const ids = new Map<string, Set<string>>();
  for (const entry of trail) ids.set(entry.type, (ids.get(entry.type) ?? new Set()).add(entry.messageId));
  return [...ids].filter(([type, set]) => type !== 'saga.stalled' && set.size > 1).map(([type]) => type);
}

describe('a delayed confirmation the broker dropped', () => {
  const sut = useSystemUnderTest('redrive-delay');

  it('is sent again by shipping under its first message id once the order service sees the order stand still, and the order completes', async () => {
    const system = await sut.start({ config: { stallAfterMs: STALL_AFTER_MS } });
    const client = await TestBrokerClient.connect(sut.vhost.url);
    try {
      // The simulated customer's confirmation waits in the delay queue: ours takes it away instead.
      const { taken } = await client.intercept(QUEUES.deliveryDelay);
      expect((await postOrder(`${system.baseUrl}`, { orderId: 'lost-confirmation', user: 'gayal', items: ['item1'] })).status).toBe(201);
      const [dropped] = await taken;
      expect(dropped?.properties.type).toBe('delivery.confirmed');

      const order = await waitForStatus(`${system.baseUrl}`, 'lost-confirmation', 'completed', 20_000);
      expect(order.history.map((entry) => entry.status)).toEqual(['pending', 'paid', 'shipped', 'completed']);
      const trail = await waitForAudit(new AuditStore(system.runtime('audit').db), 'lost-confirmation', [
        'order.completed',
        'saga.stalled',
      ]);
      const requests = trail.filter((entry) => entry.type === 'saga.stalled');
      // Whoever noticed first: the order service (shipped, and still), or the audit log (no end in its trail).
      for (const request of requests) {
        const reason = String(JSON.parse(request.body).payload.reason);
        expect(`${request.source}: ${reason}`).toMatch(
          /^order: shipped since |^audit: no order.completed, .rejected or .failed in the audit log$/,
        );
      }
      expect(
        trail.filter((entry) => entry.type === 'delivery.confirmed').map((entry) => entry.messageId),
        '🚨 the confirmation sent again keeps its first message id',
      ).toEqual([dropped?.properties.messageId]);
      expect(publishedTwice(trail), '🚨 a re-drive must not publish an effect twice').toEqual([]);
      expect(new ShipmentStore(system.runtime('shipping').db).find('lost-confirmation')?.status).toBe('delivered');
      expect(
        sut.logs.linesOf('shipping').some((line) => /order lost-confirmation stalled .*: [1-9]\d* of its events sent again/.test(line)),
      ).toBe(true);
    } finally {
      await client.close();
    }
  });
});

describe('a hole in a finished order’s audit trail', () => {
  const sut = useSystemUnderTest('redrive-audit');

  it('is filled: the audit service asks for a re-drive and order.created arrives under its first id', async () => {
    const config = { stallAfterMs: STALL_AFTER_MS };
    // Everything but the audit log: the order ends while its events wait in audit.queue.
    const system = await sut.start({ config, services: ['order', 'inventory', 'payment', 'shipping', 'notification'] });
    const client = await TestBrokerClient.connect(sut.vhost.url);
    try {
      expect((await postOrder(`${system.baseUrl}`, { orderId: 'audit-gap', user: 'gayal', items: ['item1'] })).status).toBe(201);
      await waitForStatus(`${system.baseUrl}`, 'audit-gap', 'completed');
      // The first of the order's events in audit.queue is its order.created: the audit log never sees it.
      const { taken } = await client.intercept(QUEUES.audit);
      const [dropped] = await taken;
      expect(dropped?.properties.type).toBe('order.created');

      const audit = await sut.start({ config, services: ['audit'] });
      const trail = await waitForAudit(new AuditStore(audit.runtime('audit').db), 'audit-gap', ['order.created', 'saga.stalled'], 20_000);
      const request = trail.find((entry) => entry.type === 'saga.stalled');
      expect(request?.source).toBe('audit');
      expect(JSON.parse(request?.body ?? '{}').payload.reason).toBe('completed, but the audit log lacks order.created');
      expect(trail.filter((entry) => entry.type === 'order.created').map((entry) => entry.messageId)).toEqual([
        dropped?.properties.messageId,
      ]);
      expect(countOf(trail, 'order.completed')).toBe(1);
      expect(publishedTwice(trail)).toEqual([]);
      // The other services got the copies too, and skipped them: nothing happened twice.
      expect(sut.logs.linesOf('inventory').some((line) => line.includes('skipped order.created') && line.includes('audit-gap'))).toBe(true);
    } finally {
      await client.close();
    }
  });
});
