// What keeps metrics and traces cheap under load (docs/performance.md): metric updates held in a Map
// until the metric is read, a sampler that keeps every trace below ROOTS_PER_SECOND a second and a
// share of them above, and a publish recorded on the span that caused it rather than as a span of
// its own. None may lose a count, a publish, or change what a reader sees.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace-base';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { BufferedCounter, BufferedHistogram } from '../solutions/observability/buffered-metrics.ts';
import { createLogger } from '../shared/log.ts';
import { publishedEvents, SpanStore } from '../solutions/observability/span-store.ts';
import { BusyRatioSampler, ServiceTracing, SpanKind } from '../solutions/observability/tracing.ts';

describe('buffered metrics', () => {
  it('a scrape sees every increment and observation made before it', async () => {
    const registry = new Registry();
    const consumed = new BufferedCounter(
      { name: 'consumed_total', help: 'h', labelNames: ['queue', 'event_type'], registers: [registry] },
      true,
    );
    const seconds = new BufferedHistogram(
      { name: 'handler_seconds', help: 'h', labelNames: ['queue'], buckets: [0.01, 1], registers: [registry] },
      true,
    );
    for (let i = 0; i < 5; i++) consumed.inc({ queue: 'a', event_type: 'x' });
    consumed.inc({ queue: 'b', event_type: 'x' }, 3);
    seconds.observe({ queue: 'a' }, 0.005);
    seconds.observe({ queue: 'a' }, 0.5);
    const text = await registry.metrics();
    expect(text).toContain('consumed_total{queue="a",event_type="x"} 5');
    expect(text).toContain('consumed_total{queue="b",event_type="x"} 3');
    expect(text).toContain('handler_seconds_bucket{le="0.01",queue="a"} 1');
    expect(text).toContain('handler_seconds_count{queue="a"} 2');
    consumed.inc({ queue: 'a', event_type: 'x' });
    expect(await registry.metrics()).toContain('consumed_total{queue="a",event_type="x"} 6');
  });

  it('switched off, nothing is counted', async () => {
    const registry = new Registry();
    const consumed = new BufferedCounter({ name: 'consumed_total', help: 'h', registers: [registry] }, false);
    consumed.inc(4);
    expect(await registry.metrics()).toContain('consumed_total 0');
  });
});

describe('BusyRatioSampler', () => {
  const traceId = () => randomBytes(16).toString('hex');

  it('keeps every trace up to its rate each second, then about its ratio', () => {
    let now = 10_000;
    const sampler = new BusyRatioSampler(10, 0.1, () => now);
    const kept = (count: number) =>
      Array.from({ length: count }, () => sampler.shouldSample(ROOT_CONTEXT, traceId()).decision).filter(
        (d) => d === SamplingDecision.RECORD_AND_SAMPLED,
      ).length;
    expect(kept(10), '🚨 below 10 orders a second every order keeps its trace').toBe(10);
    const busy = kept(2000);
    expect(busy).toBeGreaterThan(100);
    expect(busy).toBeLessThan(300);
    now += 1000; // a new second: the first ten are kept again
    expect(kept(10)).toBe(10);
  });
});

describe('a publish, recorded on the span that caused it', () => {
  const publish = (eventType: string, messageId: string) => ({
    eventType,
    exchange: 'order.exchange',
    routingKey: `rk.${eventType}`,
    messageId,
    orderId: 'o-1',
  });
  const traceparentOf = (tracing: ServiceTracing, context: Parameters<ServiceTracing['inject']>[0]) => {
    const headers: Record<string, unknown> = {};
    tracing.inject(context, headers);
    return String(headers.traceparent);
  };

  it("joins the delivery's span: no span of its own, and the message continues that span", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'record-publish-'));
    const tracing = new ServiceTracing('shipping', dataDir, createLogger('shipping', { out: () => {}, err: () => {} }));
    try {
      const { span, context } = tracing.start('process payment.success', SpanKind.CONSUMER, ROOT_CONTEXT, { 'order.id': 'o-1' });
      const first = tracing.recordPublish(context, publish('shipping.prepared', 'm-1'));
      const second = tracing.recordPublish(context, publish('delivery.confirmed', 'm-2'));
      span.end();
      const spanId = span.spanContext().spanId;
      expect(traceparentOf(tracing, first)).toContain(`-${spanId}-01`);
      expect(traceparentOf(tracing, second)).toContain(`-${spanId}-01`);
      // A publish with nothing to carry it (a re-drive) is a producer span, the root of its own trace.
      const alone = tracing.recordPublish(ROOT_CONTEXT, publish('saga.stalled', 'm-3'));
      expect(trace.getSpan(alone)?.spanContext().traceId).not.toBe(span.spanContext().traceId);
      await tracing.shutdown(); // writes the spans
      const store = new SpanStore(dataDir, 'shipping');
      const [kept] = store.spansOfOrder('o-1').filter((stored) => stored.spanId === spanId);
      const all = store.spansOfOrder('o-1');
      store.close();
      expect(all.map((stored) => `${stored.kind} ${stored.name}`).sort()).toEqual([
        'consumer process payment.success',
        'producer publish saga.stalled',
      ]);
      expect(publishedEvents(kept!)).toEqual(['shipping.prepared', 'delivery.confirmed']);
      expect(kept!.attributes).toMatchObject({
        'messaging.publish.destinations': ['order.exchange', 'order.exchange'],
        'messaging.publish.routing_keys': ['rk.shipping.prepared', 'rk.delivery.confirmed'],
        'messaging.publish.message_ids': ['m-1', 'm-2'],
      });
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('under a trace sampled out, records nothing and passes the decision on', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'record-publish-'));
    const tracing = new ServiceTracing('payment', dataDir, createLogger('payment', { out: () => {}, err: () => {} }));
    try {
      const unsampled = trace.setSpanContext(ROOT_CONTEXT, {
        traceId: randomBytes(16).toString('hex'),
        spanId: randomBytes(8).toString('hex'),
        traceFlags: TraceFlags.NONE,
        isRemote: true,
      });
      const { span, context } = tracing.start('process inventory.reserved', SpanKind.CONSUMER, unsampled);
      expect(span.isRecording()).toBe(false);
      expect(traceparentOf(tracing, tracing.recordPublish(context, publish('payment.success', 'm-1')))).toMatch(/-00$/);
      span.end();
    } finally {
      await tracing.shutdown();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
