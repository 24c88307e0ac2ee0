// The broker closes every connection mid-flow (as an operator or a failing node would). Each
// service reconnects, rebuilds its channels and consumers, and the orders in flight and those
// placed meanwhile all complete, each event exactly once.
import { beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_NAMES } from '../../shared/messages/events.ts';
import { AuditStore } from '../../solutions/services/audit/audit-store.ts';
import { PaymentStore } from '../../solutions/services/payment/payment-store.ts';
import type { RunningSystem } from '../../solutions/system.ts';
import { eventually } from '../support/eventually.ts';
import { placeOrderWhenAccepted, waitForStatus } from './support/order-api.ts';
import { countOf, waitForAudit } from './support/service-state.ts';
import { useSystemUnderTest } from './support/system-under-test.ts';
import { TRAIL_OF } from '../../shared/messages/order-trail.ts';

/** The events of an order that completes, in the order they happen. */
const FLOW: string[] = TRAIL_OF.completed;

describe('connections closed by the broker mid-flow', () => {
  const sut = useSystemUnderTest('connection-loss');
  let system: RunningSystem;

  beforeAll(async () => {
    system = await sut.start();
  });

  it('every order completes, nothing is lost or duplicated', async () => {
    const baseUrl = `${system.baseUrl}`;
    const order = (orderId: string) => ({ orderId, user: 'gayal', items: ['item1', { sku: 'item3', quantity: 2 }] });
    const before = ['before-1', 'before-2', 'before-3'];
    const during = ['during-1', 'during-2', 'during-3'];

    // The management API lists a connection a moment after it opened.
    const { api, vhost } = sut.vhost;
    const connections = await eventually(
      async () => {
        const listed = await api.listConnections(vhost);
        const named = listed.map((connection) => connection.client_properties?.connection_name ?? '');
        return SERVICE_NAMES.every((service) => named.some((name) => name.startsWith(`${service}-`))) && listed;
      },
      { timeoutMs: 20_000, intervalMs: 200, what: 'a connection of every service in the management API' },
    );
    // Orders in flight when the connections go: placed just before, not waited for.
    for (const orderId of before) await placeOrderWhenAccepted(baseUrl, order(orderId));
    await Promise.all(connections.map((connection) => api.closeConnection(connection.name, 'test: connection closed mid-flow')));

    for (const orderId of during) await placeOrderWhenAccepted(baseUrl, order(orderId));

    // Every service noticed, so the recovery path really ran.
    await eventually(
      () => SERVICE_NAMES.every((service) => sut.logs.linesOf(service).some((line) => line.includes('lost the broker connection'))),
      {
        what: 'every service to report the lost connection',
      },
    );

    const audit = new AuditStore(system.runtime('audit').db);
    const payments = new PaymentStore(system.runtime('payment').db);
    for (const orderId of [...before, ...during]) {
      await waitForStatus(baseUrl, orderId, 'completed', 30_000);
      const trail = await waitForAudit(audit, orderId, FLOW);
      for (const type of FLOW) expect(countOf(trail, type), `🚨 order ${orderId}: ${type} should be in the audit log exactly once`).toBe(1);
      expect(payments.find(orderId)?.status).toBe('paid');
    }
  });
});
