// What keeps metrics and traces cheap under load (docs/performance.md): metric updates held in a Map
// until the metric is read, and a sampler that keeps every trace below ROOTS_PER_SECOND a second
// and a share of them above. Neither may lose a count or change what a reader sees.
import { randomBytes } from 'node:crypto';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace-base';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { BufferedCounter, BufferedHistogram } from '../solutions/observability/buffered-metrics.ts';
import { BusyRatioSampler } from '../solutions/observability/tracing.ts';

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
