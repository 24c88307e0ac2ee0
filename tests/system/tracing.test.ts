// Traces through RabbitMQ: every event of one order carries a W3C traceparent with the same trace
// id, seen by a reader that is not amqplib (the management HTTP API's get-messages), and the spans
// the services keep show the order's hops, one span each (npm run trace).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXCHANGES } from '../../shared/topology/topology.ts';
import { publishedEvents, type StoredSpan } from '../../solutions/observability/span-store.ts';
import type { RunningSystem } from '../../solutions/system.ts';
import { eventually } from '../support/eventually.ts';
import { placeOrderWhenAccepted, waitForStatus } from './support/order-api.ts';
import { useSystemUnderTest } from './support/system-under-test.ts';
import { TRAIL_OF } from '../../shared/messages/order-trail.ts';

/** The events of an order that completes, in the order they happen. */
const FLOW: string[] = TRAIL_OF.completed;
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;

interface ApiMessage {
  routing_key: string;
  properties: { correlation_id?: string; type?: string; headers?: Record<string, unknown> };
}

describe('trace context through every message of an order', () => {
  const sut = useSystemUnderTest('tracing');
  let system: RunningSystem;
  const tap = 'trace-tap.queue';

  beforeAll(async () => {
    system = await sut.start();
    // The outside reader's own queue, declared and bound through the management API: every event on the bus.
    const vhost = encodeURIComponent(sut.vhost.vhost);
    await sut.vhost.api.request('PUT', `/queues/${vhost}/${tap}`, { durable: false, auto_delete: false });
    await sut.vhost.api.request('POST', `/bindings/${vhost}/e/${EXCHANGES.order}/q/${tap}`, { routing_key: '#' });
  });

  it('every event carries a traceparent of one trace id, read by the management API', async () => {
    // Express: then both notification channels take order.created (the SMS one only an express order's), two more hops.
    await placeOrderWhenAccepted(`${system.baseUrl}`, { orderId: 'traced-1', user: 'ines', items: ['item1'], express: true });
    await waitForStatus(`${system.baseUrl}`, 'traced-1', 'completed', 20_000);
    const vhost = encodeURIComponent(sut.vhost.vhost);
    const messages: ApiMessage[] = [];
    await eventually(
      async () => {
        messages.push(
          ...(await sut.vhost.api.request<ApiMessage[]>('POST', `/queues/${vhost}/${tap}/get`, {
            count: 100,
            ackmode: 'ack_requeue_false',
            encoding: 'auto',
          })),
        );
        return FLOW.every((type) => messages.some((m) => m.properties.type === type && m.properties.correlation_id === 'traced-1'));
      },
      { what: 'every event of the order in the tap queue' },
    );
    const ofOrder = messages.filter((m) => m.properties.correlation_id === 'traced-1');
    const traceIds = ofOrder.map((m) => {
      const header = m.properties.headers?.traceparent;
      expect(header, `${m.properties.type} carries a traceparent`).toMatch(TRACEPARENT);
      return TRACEPARENT.exec(String(header))![1];
    });
    expect(new Set(traceIds).size, `one trace id for all ${ofOrder.length} events`).toBe(1);
  });

  it('npm run trace shows the hops through all six services, one span each', async () => {
    const spansIn = () => Object.values(system.runtimes).flatMap((runtime) => runtime!.tracing.store.spansOfOrder('traced-1'));
    const published = (spans: StoredSpan[]) => spans.flatMap(publishedEvents);
    // Spans are written a moment after they end.
    await eventually(
      () => {
        const spans = spansIn();
        return (
          new Set(spans.map((span) => span.service)).size === 6 &&
          FLOW.every((type) => published(spans).includes(type)) &&
          spans.some((span) => span.name === 'process order.completed')
        );
      },
      { what: 'spans from all six services, every event recorded as published' },
    );
    const spans: StoredSpan[] = spansIn();
    expect(new Set(spans.map((span) => span.traceId)).size).toBe(1);
    // The trace starts at the HTTP request that placed the order, which published order.created.
    const roots = spans.filter((span) => span.parentSpanId === null);
    expect(roots.map((span) => `${span.service} ${span.name} ${span.kind}`)).toEqual(['order POST /orders server']);
    expect(publishedEvents(roots[0]!)).toEqual(['order.created']);
    // One span per hop: the request, then one per delivery. A publish is recorded on the span of the
    // delivery (or request) that caused it, each event exactly once, not as a span of its own that
    // would start and end at once inside that one.
    expect(spans.filter((span) => span !== roots[0] && span.kind !== 'consumer').map((span) => `${span.service} ${span.name}`)).toEqual([]);
    expect(published(spans).sort()).toEqual([...FLOW].sort());
    const publisher = spans.find((span) => publishedEvents(span).includes('payment.success'))!;
    expect(publisher.name).toBe('process inventory.reserved');
    expect(publisher.attributes).toMatchObject({
      'messaging.publish.destinations': [EXCHANGES.order],
      'messaging.publish.routing_keys': [expect.any(String)],
      'messaging.publish.message_ids': [expect.any(String)],
      // The delivery's own attributes stay beside the publish's.
      'messaging.destination.name': expect.stringMatching(/queue/),
    });
    // Each delivery is a child of the span that published its event.
    for (const span of spans.filter((s) => s.kind === 'consumer')) {
      const parent = spans.find((s) => s.spanId === span.parentSpanId);
      expect(parent && publishedEvents(parent), `${span.service} ${span.name}'s parent published its event`).toContain(
        span.name.replace(/^process /, ''),
      );
    }
    expect(
      spans
        .filter((span) => span.name === 'process order.created')
        .map((span) => span.service)
        .sort(),
    ).toEqual(['audit', 'inventory', 'notification', 'notification']);
    // Every span but the root has its parent among them: one connected tree.
    const ids = new Set(spans.map((span) => span.spanId));
    expect(spans.filter((span) => span.parentSpanId && !ids.has(span.parentSpanId))).toEqual([]);

    const output = execFileSync(
      process.execPath,
      ['--import', 'tsx', path.join(import.meta.dirname, '../../solutions/trace.ts'), 'traced-1'],
      {
        encoding: 'utf8',
        env: { ...process.env, DATA_DIR: sut.dataDir },
      },
    );
    expect(output).toMatch(/^trace [0-9a-f]{32}: order traced-1, \d+ spans in 6 services/);
    expect(output).toMatch(/POST \/orders → order\.created/);
    expect(output).toMatch(/process shipping\.delivered → order\.completed/);
    for (const type of FLOW) expect(output).toMatch(new RegExp(`→ (\\S+, )*${type.replace('.', '\\.')}\\b`));
  });
});
