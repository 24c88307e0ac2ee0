// Traces through RabbitMQ, with OpenTelemetry. The runtime and the outbox carry the W3C trace
// context in every message's `traceparent` header (the learner's layers never see it): the HTTP API
// starts a trace, each delivery is a consumer span that continues the trace it came with, and what
// a request or a delivery publishes is recorded on its span (recordPublish), so every event of one
// order shares one trace id and each hop is one span. Finished spans go to the
// service's own spans file (span-store.ts) and, when OTEL_EXPORTER_OTLP_ENDPOINT (or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, to an OpenTelemetry collector over OTLP/HTTP.
//
// Sampled under load: a trace is decided where it starts (the POST that places an order) and every
// later span follows that decision, carried in the traceparent's flags (parent-based). The first
// ROOTS_PER_SECOND traces of each second are all kept, so below that rate every order has its
// waterfall; past it one trace in RATIO_WHEN_BUSY^-1 is. OBSERVABILITY=off keeps none.
import {
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type TextMapGetter,
  type Tracer,
} from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  type ReadableSpan,
  type Sampler,
  type SamplingResult,
  SamplingDecision,
  type SpanExporter,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { ExportResultCode, hrTimeToMicroseconds, W3CTraceContextPropagator, type ExportResult } from '@opentelemetry/core';
import type { ServiceName } from '../../shared/messages/events.ts';
import { describeError, type Logger } from '../../shared/log.ts';
import { PUBLISHED_EVENTS_ATTRIBUTE, SpanStore, type StoredSpan } from './span-store.ts';

export type { Context as TraceContext } from '@opentelemetry/api';

const propagator = new W3CTraceContextPropagator();
export const ORDER_ID_ATTRIBUTE = 'order.id';

/** AMQP header values arrive as strings or Buffers. */
const amqpHeaderGetter: TextMapGetter<Record<string, unknown>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    if (Buffer.isBuffer(value)) return value.toString('utf8');
    return typeof value === 'string' ? value : undefined;
  },
};

const KIND_NAMES: Record<number, string> = {
  [SpanKind.INTERNAL]: 'internal',
  [SpanKind.SERVER]: 'server',
  [SpanKind.CLIENT]: 'client',
  [SpanKind.PRODUCER]: 'producer',
  [SpanKind.CONSUMER]: 'consumer',
};

function toStored(span: ReadableSpan, service: ServiceName): StoredSpan {
  const { traceId, spanId } = span.spanContext();
  const orderId = span.attributes[ORDER_ID_ATTRIBUTE];
  return {
    spanId,
    traceId,
    parentSpanId: span.parentSpanContext?.spanId ?? null,
    orderId: typeof orderId === 'string' ? orderId : null,
    service,
    name: span.name,
    kind: KIND_NAMES[span.kind] ?? 'internal',
    startUs: Math.round(hrTimeToMicroseconds(span.startTime)),
    durationUs: Math.round(hrTimeToMicroseconds(span.duration)),
    status: span.status.code === SpanStatusCode.ERROR ? `error: ${span.status.message ?? ''}` : 'ok',
    attributes: { ...span.attributes },
  };
}

/**
 * Keeps finished spans in the service's spans file: buffered, written in one transaction a moment
 * later (a span often ends inside a message's transaction, which must not grow), pruned hourly.
 */
class SqliteSpanProcessor implements SpanProcessor {
  private buffer: StoredSpan[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastPrune = 0;
  private closed = false;

  constructor(
    private readonly store: SpanStore,
    private readonly service: ServiceName,
    private readonly log: Logger,
  ) {}

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if (this.closed) return;
    this.buffer.push(toStored(span, this.service));
    this.timer ??= setTimeout(() => this.flush(), 200).unref();
  }

  private flush(): void {
    this.timer = undefined;
    const spans = this.buffer;
    this.buffer = [];
    try {
      this.store.write(spans);
      if (Date.now() - this.lastPrune > 3600_000) {
        this.lastPrune = Date.now();
        this.store.pruneOld();
      }
    } catch (error) {
      this.log.warn(`could not keep ${spans.length} spans: ${describeError(error)}`);
    }
  }

  async forceFlush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    if (!this.closed) this.flush();
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
    this.closed = true;
  }
}

/**
 * The OTLP/HTTP exporter, imported when first needed: its module graph (about 120 modules, with
 * the metrics SDK and the protobuf transformer) is most of what loading tracing costs a service,
 * and only a service with OTEL_EXPORTER_OTLP_ENDPOINT set uses it.
 */
class LazyOtlpExporter implements SpanExporter {
  private readonly exporter = import('@opentelemetry/exporter-trace-otlp-http').then((module) => {
    // In npm start's bundle (solutions/supervisor/bundle.mjs) this CommonJS package comes as a default export only.
    const { OTLPTraceExporter } = 'OTLPTraceExporter' in module ? module : (module as unknown as { default: typeof module }).default;
    return new OTLPTraceExporter();
  });

  constructor() {
    // A failed import is reported to each export (below), never an unhandled rejection that ends the service.
    this.exporter.catch(() => {});
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.exporter.then(
      (exporter) => exporter.export(spans, resultCallback),
      (error: unknown) =>
        resultCallback({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) }),
    );
  }

  async shutdown(): Promise<void> {
    await (await this.exporter).shutdown();
  }

  async forceFlush(): Promise<void> {
    await (await this.exporter).forceFlush?.();
  }
}

/** Traces started per second that are all kept; past them, the share kept. */
export const ROOTS_PER_SECOND = 10;
export const RATIO_WHEN_BUSY = 0.1;

/** Keeps every new trace while fewer than `perSecond` began this second, then `ratio` of them (by trace id). */
export class BusyRatioSampler implements Sampler {
  private windowStart = 0;
  private keptInWindow = 0;
  private readonly ratio: TraceIdRatioBasedSampler;

  constructor(
    private readonly perSecond: number,
    ratio: number,
    private readonly now: () => number = Date.now,
  ) {
    this.ratio = new TraceIdRatioBasedSampler(ratio);
  }

  shouldSample(context: Context, traceId: string): SamplingResult {
    const now = this.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.keptInWindow = 0;
    }
    if (this.keptInWindow < this.perSecond) {
      this.keptInWindow++;
      return { decision: SamplingDecision.RECORD_AND_SAMPLED };
    }
    return this.ratio.shouldSample(context, traceId);
  }

  toString(): string {
    return `BusyRatioSampler{${this.perSecond}/s, then ${this.ratio.toString()}}`;
  }
}

export class ServiceTracing {
  private readonly provider: BasicTracerProvider;
  readonly tracer: Tracer;
  readonly store: SpanStore;

  /** enabled false (OBSERVABILITY=off): spans are not recorded (the traceparent still travels, marked not sampled). */
  constructor(service: ServiceName, dataDir: string, log: Logger, env: NodeJS.ProcessEnv = process.env, enabled = true) {
    this.store = new SpanStore(dataDir, service);
    const processors: SpanProcessor[] = enabled ? [new SqliteSpanProcessor(this.store, service, log)] : [];
    // The exporter reads the endpoint, headers and timeout from the standard OTEL_* variables itself.
    if (enabled && (env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT))
      processors.push(new BatchSpanProcessor(new LazyOtlpExporter()));
    const sampler = enabled
      ? new ParentBasedSampler({ root: new BusyRatioSampler(ROOTS_PER_SECOND, RATIO_WHEN_BUSY) })
      : new AlwaysOffSampler();
    // One provider per service (not the global one): several services share a process in tests.
    this.provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': service, 'service.namespace': 'order-system' }),
      spanProcessors: processors,
      sampler,
    });
    this.tracer = this.provider.getTracer('order-system-runtime');
  }

  /** The trace context a delivery came with (its traceparent header), or none. */
  extract(headers: Record<string, unknown> | undefined): Context {
    return headers ? propagator.extract(ROOT_CONTEXT, headers, amqpHeaderGetter) : ROOT_CONTEXT;
  }

  /** Puts `context`'s span into headers as traceparent (and tracestate). */
  inject(context: Context, headers: Record<string, unknown>): void {
    propagator.inject(context, headers, defaultTextMapSetter as never);
  }

  /** A span that is a child of `parent` (a root span when it has none). Returns it and the context it starts. */
  start(
    name: string,
    kind: SpanKind,
    parent: Context,
    attributes: Record<string, string | number | boolean> = {},
  ): { span: Span; context: Context } {
    const span = this.tracer.startSpan(name, { kind, attributes }, parent);
    return { span, context: trace.setSpan(parent, span) };
  }

  /** The publishes recorded on each span that is still open (recordPublish). */
  private readonly published = new WeakMap<
    Span,
    { types: string[]; destinations: string[]; routingKeys: string[]; messageIds: string[] }
  >();

  /**
   * One publish, recorded on the span of what caused it (the delivery being processed, the request
   * that placed the order): its event type, exchange, routing key and message id join that span's
   * `messaging.publish.*` lists. A producer span of its own used to start and end at once inside
   * that span, at the same hop, with nothing between the two to see: ten spans per completed order
   * (docs/performance.md, "spans per order"). With no span to carry it (a re-drive, a stall's
   * request), the publish is a producer span of its own, the root of a new trace.
   * Returns the context whose traceparent the message carries.
   */
  recordPublish(
    parent: Context,
    publish: { eventType: string; exchange: string; routingKey: string; messageId: string; orderId: string },
  ): Context {
    const carrier = trace.getSpan(parent);
    if (carrier) {
      // Not recording: a trace sampled out; its traceparent still travels, marked not sampled.
      if (carrier.isRecording()) {
        let lists = this.published.get(carrier);
        if (!lists) this.published.set(carrier, (lists = { types: [], destinations: [], routingKeys: [], messageIds: [] }));
        lists.types.push(publish.eventType);
        lists.destinations.push(publish.exchange || '(default)');
        lists.routingKeys.push(publish.routingKey);
        lists.messageIds.push(publish.messageId);
        carrier.setAttributes({
          [PUBLISHED_EVENTS_ATTRIBUTE]: [...lists.types],
          'messaging.publish.destinations': [...lists.destinations],
          'messaging.publish.routing_keys': [...lists.routingKeys],
          'messaging.publish.message_ids': [...lists.messageIds],
        });
      }
      return parent;
    }
    const { span, context } = this.start(`publish ${publish.eventType}`, SpanKind.PRODUCER, parent, {
      [ORDER_ID_ATTRIBUTE]: publish.orderId,
      'messaging.system': 'rabbitmq',
      'messaging.destination.name': publish.exchange || '(default)',
      'messaging.rabbitmq.destination.routing_key': publish.routingKey,
      'messaging.message.id': publish.messageId,
    });
    span.end();
    return context;
  }

  /** Ends a span as failed, with the error. */
  static fail(span: Span, error: unknown): void {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: describeError(error) });
  }

  async shutdown(): Promise<void> {
    await this.provider.shutdown().catch(() => {});
    this.store.close();
  }
}

export { SpanKind, ROOT_CONTEXT };
