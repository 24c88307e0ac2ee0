// With OTEL_EXPORTER_OTLP_ENDPOINT set, a service's spans also go to an OpenTelemetry collector over
// OTLP/HTTP. Here the collector is a small HTTP server of the test's own that records what it gets.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../shared/log.ts';
import { ROOT_CONTEXT, ServiceTracing, SpanKind } from '../solutions/observability/tracing.ts';
import { SpanStore } from '../solutions/observability/span-store.ts';

describe('OTLP export', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'otlp-export-'));
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('sends finished spans to OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces, and keeps them locally too', async () => {
    const received: { path: string; type: string; bytes: number }[] = [];
    const collector = http.createServer((request, response) => {
      let bytes = 0;
      request.on('data', (chunk: Buffer) => (bytes += chunk.length));
      request.on('end', () => {
        received.push({ path: request.url ?? '', type: request.headers['content-type'] ?? '', bytes });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const { port } = collector.address() as { port: number };
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` };
    Object.assign(process.env, env); // the exporter reads the standard variables itself
    const tracing = new ServiceTracing('payment', dataDir, createLogger('payment', { out: () => {}, err: () => {} }), env);
    const { span } = tracing.start('process inventory.reserved', SpanKind.CONSUMER, ROOT_CONTEXT, { 'order.id': 'otlp-1' });
    span.end();
    await tracing.shutdown(); // flushes both processors
    collector.close();
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;

    expect(received.length).toBeGreaterThanOrEqual(1);
    expect(received[0]!.path).toBe('/v1/traces');
    expect(received[0]!.bytes).toBeGreaterThan(0);
    const kept = new SpanStore(dataDir, 'payment');
    expect(kept.spansOfOrder('otlp-1').map((s) => s.name)).toEqual(['process inventory.reserved']);
    kept.close();
  });
});
