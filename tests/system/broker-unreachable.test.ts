// The broker becomes unreachable for the services: their vhost is deleted under them, so the
// connections drop and cannot come back. The API says so (503) and stores nothing; once the vhost
// is back, the services reconnect on their own (backoff of at most 5 s) and orders flow again.
import { beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_NAMES } from '../../shared/messages/events.ts';
import type { RunningSystem } from '../../solutions/system.ts';
import { eventually } from '../support/eventually.ts';
import { getJson, getOrder, postOrder, waitForStatus } from './support/order-api.ts';
import { useSystemUnderTest } from './support/system-under-test.ts';

interface Health {
  broker: 'connected' | 'disconnected';
  outboxPending: number;
}

describe('the broker unreachable', () => {
  const sut = useSystemUnderTest('broker-unreachable');
  let system: RunningSystem;
  let baseUrl: string;

  beforeAll(async () => {
    system = await sut.start();
    baseUrl = `${system.baseUrl}`;
  });

  const health = () => getJson<Health>(`${baseUrl}/health`);

  it('POST /orders answers 503 and stores nothing; after the broker is back the service reconnects and takes orders', async () => {
    expect((await health()).status).toBe(200);
    expect((await postOrder(baseUrl, { orderId: 'before-outage', user: 'gayal', items: ['item1'] })).status).toBe(201);
    await waitForStatus(baseUrl, 'before-outage', 'completed');

    await sut.vhost.api.deleteVhost(sut.vhost.vhost);
    const down = await eventually(
      async () => {
        const answer = await health();
        return answer.status === 503 && answer;
      },
      { what: 'GET /health to report the broker down' },
    );
    expect(down.body.broker).toBe('disconnected');

    const refused = await postOrder<{ error: string }>(baseUrl, { orderId: 'during-outage', user: 'gayal', items: ['item1'] });
    expect(refused.status, '🚨 without a broker the API must refuse the order').toBe(503);
    expect(refused.body.error).toMatch(/unreachable/);
    expect(await getOrder(baseUrl, 'during-outage'), '🚨 a refused order must not be stored').toBeUndefined();
    expect((await health()).body.outboxPending).toBe(0);

    // The outage is real: a reconnect attempt has failed (and backoff schedules the next ones).
    await eventually(() => sut.logs.linesOf('order').some((line) => line.startsWith('warning: could not connect to ')), {
      what: 'a failed reconnect attempt of the order service',
    });
    expect((await health()).status).toBe(503);

    await sut.vhost.api.createVhost(sut.vhost.vhost);
    const up = await eventually(
      async () => {
        const answer = await health();
        return answer.status === 200 && answer;
      },
      { timeoutMs: 20_000, intervalMs: 200, what: 'GET /health to report the broker connected again' },
    );
    expect(up.body.broker).toBe('connected');

    const accepted = await postOrder(baseUrl, { orderId: 'after-outage', user: 'gayal', items: ['item1'] });
    expect(accepted.status).toBe(201);
    // The other services reconnect on their own schedule; the order completes once all are back.
    await waitForStatus(baseUrl, 'after-outage', 'completed', 30_000);
    expect(SERVICE_NAMES.every((service) => system.runtime(service).isBrokerConnected())).toBe(true);
  });
});
