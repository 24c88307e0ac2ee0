// One service's metrics, in the Prometheus text format (prom-client). Each service has a registry of
// its own, so several services in one process (tests, the grader) never mix their numbers, and every
// series carries a `service` label. Served by metrics-server.ts at /metrics.
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { BufferedCounter, BufferedHistogram } from './buffered-metrics.ts';
import { EVENT_TYPES, type ServiceName } from '../../shared/messages/events.ts';

/** What the metrics read when scraped rather than count as they happen. */
export interface MetricsSources {
  outboxPending(): number;
  /** Seconds since the oldest row still in the outbox was written; 0 when it is empty. */
  outboxOldestAgeSeconds(): number;
  brokerConnected(): boolean;
}

const KNOWN_TYPES = new Set<string>(EVENT_TYPES);
/**
 * The event_type label of a message: its type when it is one of ours, else "other". A label takes
 * whatever a publisher put in the message, and each distinct value is a series the scraper keeps.
 */
export function eventTypeLabel(type: unknown): string {
  return typeof type === 'string' && KNOWN_TYPES.has(type) ? type : 'other';
}

// Seconds. A handler is a SQLite transaction: usually well under a millisecond, seconds when stuck.
const HANDLER_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class ServiceMetrics {
  readonly registry = new Registry();
  readonly consumed;
  readonly duplicates;
  readonly parked;
  readonly retried;
  readonly published;
  readonly handlerSeconds;
  readonly reconnects;
  readonly redrivesRequested;
  readonly redriven;
  readonly httpRequests;
  readonly httpSeconds;

  /** enabled false (OBSERVABILITY=off): the counters and histograms stay at zero; gauges still read their sources when scraped. */
  constructor(service: ServiceName, sources: MetricsSources, enabled = true) {
    const registers = [this.registry];
    const counter = (config: ConstructorParameters<typeof BufferedCounter>[0]) => new BufferedCounter(config, enabled);
    const histogram = (config: ConstructorParameters<typeof BufferedHistogram>[0]) => new BufferedHistogram(config, enabled);
    this.registry.setDefaultLabels({ service });
    const byMessage = ['queue', 'event_type'] as const;
    this.consumed = counter({
      name: 'order_system_messages_consumed_total',
      help: 'Deliveries handled and acked, by queue and event type (duplicates included).',
      labelNames: byMessage,
      registers,
    });
    this.duplicates = counter({
      name: 'order_system_messages_duplicate_total',
      help: 'Deliveries skipped because their message id was already processed.',
      labelNames: byMessage,
      registers,
    });
    this.parked = counter({
      name: 'order_system_messages_parked_total',
      help: 'Deliveries parked in the dead-letter queue (malformed, unhandled, forged, or out of retries).',
      labelNames: byMessage,
      registers,
    });
    this.retried = counter({
      name: 'order_system_messages_retried_total',
      help: 'Deliveries whose handler failed and that went to their retry queue.',
      labelNames: byMessage,
      registers,
    });
    this.published = counter({
      name: 'order_system_messages_published_total',
      help: 'Messages the broker confirmed, from the outbox, by exchange and event type.',
      labelNames: ['exchange', 'event_type'],
      registers,
    });
    this.handlerSeconds = histogram({
      name: 'order_system_handler_duration_seconds',
      help: 'Time to handle one delivery (decode, handler, commit), by queue and event type.',
      labelNames: byMessage,
      buckets: HANDLER_BUCKETS,
      registers,
    });
    this.reconnects = counter({
      name: 'order_system_broker_reconnects_total',
      help: 'Connections to the broker re-established after one was lost.',
      registers,
    });
    this.redrivesRequested = counter({
      name: 'order_system_redrives_requested_total',
      help: 'saga.stalled events this service published: orders it saw stop moving (stall-watch.ts).',
      registers,
    });
    this.redriven = counter({
      name: 'order_system_messages_redriven_total',
      help: 'Messages queued again from the sent log because their order stalled.',
      registers,
    });
    this.httpRequests = counter({
      name: 'order_system_http_requests_total',
      help: 'HTTP requests answered, by route, method and status.',
      labelNames: ['route', 'method', 'status'],
      registers,
    });
    this.httpSeconds = histogram({
      name: 'order_system_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by route and method.',
      labelNames: ['route', 'method'],
      buckets: HTTP_BUCKETS,
      registers,
    });
    new Gauge({
      name: 'order_system_outbox_depth',
      help: 'Messages waiting in the outbox for the broker to confirm them.',
      registers,
      collect() {
        this.set(sources.outboxPending());
      },
    });
    new Gauge({
      name: 'order_system_outbox_oldest_age_seconds',
      help: 'Age of the oldest message waiting in the outbox (0 when empty).',
      registers,
      collect() {
        this.set(sources.outboxOldestAgeSeconds());
      },
    });
    new Gauge({
      name: 'order_system_broker_connected',
      help: '1 while the service is connected to the broker, else 0.',
      registers,
      collect() {
        this.set(sources.brokerConnected() ? 1 : 0);
      },
    });
    // Process CPU, memory, event-loop lag: per process, so the same in every service of one process.
    collectDefaultMetrics({ register: this.registry, prefix: 'order_system_' });
  }
}
