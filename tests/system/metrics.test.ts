// Every service serves its own Prometheus metrics at /metrics (solutions/observability): what it
// consumed, published, parked and retried per queue and event type, how long handlers took, the
// outbox, the broker connection, and the order service's HTTP requests. One registry per service:
// six services in this one process never mix their numbers.
import { beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_NAMES, type ServiceName } from '../../shared/messages/events.ts';
import { EXCHANGES, QUEUES } from '../../shared/topology/topology.ts';
import type { RunningSystem } from '../../solutions/system.ts';
import { eventually } from '../support/eventually.ts';
import { TestBrokerClient } from './support/broker-client.ts';
import { placeOrderWhenAccepted, waitForStatus } from './support/order-api.ts';
import { useSystemUnderTest } from './support/system-under-test.ts';

/** One sample's value from a text exposition: `name{labels} value`, all given labels matching. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = line.slice(name.length).match(/^\{(.*)\}/)?.[1] ?? '';
    const found = Object.fromEntries([...labelText.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(line.split(' ').at(-1));
  }
  return undefined;
}

describe('each service’s /metrics', () => {
  const sut = useSystemUnderTest('metrics');
  let system: RunningSystem;
  const scrape = async (service: ServiceName) => {
    const response = await fetch(`http://127.0.0.1:${system.runtime(service).metricsPort}/metrics`);
    expect(response.headers.get('content-type')).toContain('text/plain');
    return response.text();
  };

  beforeAll(async () => {
    system = await sut.start({ config: { metricsPort: 0 } });
  });

  it('counts an order through every service, each in its own registry', async () => {
    const ports = SERVICE_NAMES.map((service) => system.runtime(service).metricsPort);
    expect(new Set(ports).size, 'six servers, six ports').toBe(6);
    await placeOrderWhenAccepted(`${system.baseUrl}`, { orderId: 'metrics-1', user: 'ines', items: ['item1'] });
    await waitForStatus(`${system.baseUrl}`, 'metrics-1', 'completed', 20_000);

    const inventory = await eventually(
      async () => {
        const text = await scrape('inventory');
        return (
          (sample(text, 'order_system_messages_consumed_total', { queue: QUEUES.inventory, event_type: 'payment.success' }) ?? 0) >= 1 &&
          text
        );
      },
      { what: 'inventory to count the payment.success it consumed' },
    );
    expect(
      sample(inventory, 'order_system_messages_consumed_total', {
        service: 'inventory',
        queue: QUEUES.inventory,
        event_type: 'order.created',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(inventory, 'order_system_messages_published_total', { exchange: EXCHANGES.order, event_type: 'inventory.reserved' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(inventory, 'order_system_handler_duration_seconds_count', { queue: QUEUES.inventory, event_type: 'order.created' }),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(inventory, 'order_system_broker_connected')).toBe(1);
    expect(sample(inventory, 'order_system_outbox_depth')).toBeDefined();
    expect(sample(inventory, 'order_system_outbox_oldest_age_seconds')).toBeDefined();
    // Not another service's numbers: inventory never consumed from order.queue.
    expect(sample(inventory, 'order_system_messages_consumed_total', { queue: QUEUES.order })).toBeUndefined();

    const order = await scrape('order');
    expect(sample(order, 'order_system_http_requests_total', { route: '/orders', method: 'POST', status: '201' })).toBeGreaterThanOrEqual(
      1,
    );
    expect(
      sample(order, 'order_system_http_requests_total', { route: '/orders/:id', method: 'GET', status: '200' }),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(order, 'order_system_http_request_duration_seconds_count', { route: '/orders', method: 'POST' })).toBeGreaterThanOrEqual(
      1,
    );
    const shipping = await scrape('shipping');
    expect(
      sample(shipping, 'order_system_messages_published_total', { exchange: '(default)', event_type: 'delivery.confirmed' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('counts parked messages by queue, with an unknown type as "other"', async () => {
    const client = await TestBrokerClient.connect(sut.vhost.url);
    await client.publish(EXCHANGES.order, 'payment.success', 'not json at all', { type: 'made.up.type', messageId: 'metrics-bad-1' });
    await eventually(
      async () =>
        (sample(await scrape('order'), 'order_system_messages_parked_total', { queue: QUEUES.order, event_type: 'other' }) ?? 0) >= 1,
      {
        what: 'order to count the malformed message it parked',
      },
    );
    await client.close();
    expect(await fetch(`http://127.0.0.1:${system.runtime('order').metricsPort}/nothing`).then((r) => r.status)).toBe(404);
  });
});
