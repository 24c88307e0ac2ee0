// RABBITMQ_URL's list form: a service given several nodes connects to one that answers and, when it
// loses that connection, goes round the list again. Here the first "node" is a port where nothing
// listens (a node that is down), the second the test broker; the real three-node cluster with a node
// killed mid-load is `npm run chaos -- --cluster`.
import { beforeAll, describe, expect, it } from 'vitest';
import { withVhost } from '../../shared/broker/broker-url.ts';
import { SERVICE_NAMES } from '../../shared/messages/events.ts';
import { freePort } from '../../shared/broker/ports.ts';
import type { RunningSystem } from '../../solutions/system.ts';
import { eventually } from '../support/eventually.ts';
import { placeOrderWhenAccepted, waitForStatus } from './support/order-api.ts';
import { useSystemUnderTest } from './support/system-under-test.ts';

describe('failing over between the nodes RABBITMQ_URL lists', () => {
  const sut = useSystemUnderTest('failover');
  let system: RunningSystem;
  let downNode: string;

  beforeAll(async () => {
    downNode = withVhost(`amqp://guest:guest@127.0.0.1:${await freePort()}`, sut.vhost.vhost);
    system = await sut.start({ config: { brokerUrl: downNode, failoverUrls: [sut.vhost.url] } });
  });

  it('starts on the node that answers, and comes back to it after losing the connection', async () => {
    const baseUrl = `${system.baseUrl}`;
    const order = (orderId: string) => ({ orderId, user: 'ines', items: ['item1'] });
    for (const service of SERVICE_NAMES) {
      expect(
        sut.logs
          .linesOf(service)
          .some((line) => line.includes(`could not connect to amqp://guest:***@127.0.0.1:${new URL(downNode).port}/`)),
        `${service} tried the node that is down first`,
      ).toBe(true);
    }
    await placeOrderWhenAccepted(baseUrl, order('failover-1'));
    await waitForStatus(baseUrl, 'failover-1', 'completed', 20_000);

    const { api, vhost } = sut.vhost;
    const connections = await eventually(
      async () => {
        const listed = await api.listConnections(vhost);
        return listed.length >= SERVICE_NAMES.length && listed;
      },
      { timeoutMs: 20_000, intervalMs: 200, what: 'every service connected' },
    );
    const failuresBefore = sut.logs.lines.filter((line) => line.includes('could not connect to')).length;
    await Promise.all(connections.map((connection) => api.closeConnection(connection.name, 'test: node lost')));

    await placeOrderWhenAccepted(baseUrl, order('failover-2'));
    await waitForStatus(baseUrl, 'failover-2', 'completed', 30_000);
    // After the loss each service tried the next node on its list (the one that is down) before this one again.
    const failuresAfter = sut.logs.lines.filter((line) => line.includes('could not connect to')).length;
    expect(failuresAfter - failuresBefore).toBeGreaterThanOrEqual(SERVICE_NAMES.length);
  });
});
