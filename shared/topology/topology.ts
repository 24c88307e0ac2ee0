// Every exchange, queue and binding of the order system, declared once, as data.
// Code, docs and grader checks read names and shapes from here; nothing else declares topology.
import type { DomainEvent, EventType, ServiceName } from '../messages/events.ts';
import type { BindingSpec, ExchangeSpec, QueueSpec, StreamSpec, Topology, TopologySettings } from './types.ts';

export const EXCHANGES = {
  /** The event bus: every domain event is published here with its type as routing key. */
  order: 'order.exchange',
  audit: 'audit.fanout.exchange',
  notification: 'notification.exchange',
  /** Headers exchange: of the notified events, passes on to the SMS queue only those worth a text message. */
  notificationSms: 'notification.sms.exchange',
  /** Alternate exchange of order.exchange: catches events no binding wanted (a typo, a new event type). */
  unroutable: 'unroutable.exchange',
  /** Direct exchange routing a failed message, by its queue's name, to that queue's retry queue. */
  retry: 'retry.exchange',
  deadLetter: 'dead-letter.exchange',
} as const;

export const QUEUES = {
  order: 'order.queue',
  inventory: 'inventory.queue',
  payment: 'payment.queue',
  shipping: 'shipping.queue',
  audit: 'audit.queue',
  notificationEmail: 'notification.email.queue',
  notificationSms: 'notification.sms.queue',
  paymentRpc: 'payment.rpc.queue',
  deliveryDelay: 'shipping.delivery-delay.queue',
  unroutable: 'unroutable.queue',
  deadLetter: 'dead-letter.queue',
} as const;

/**
 * The audit log as a stream (milestone 10). Only with AUDIT_STREAM=on (TopologySettings.auditStream)
 * does buildTopology list it, bound to audit.fanout.exchange in place of audit.queue; every service
 * then declares it with layer 10, and the audit service reads it (solutions/runtime/stream-readers.ts).
 * The spec gives both limits, 1 GB and 7 days; a layer applies at least one (the reference, the size).
 */
export const AUDIT_STREAM: StreamSpec = {
  name: 'audit.stream',
  retention: { maxBytes: 1_000_000_000, maxAge: '7D' },
};

/** The name of the queue where a failed message from `queue` waits before its next try. */
export function retryQueueName(queue: string): string {
  return `${queue}.retry`;
}

/** Priority used for express orders; standard orders use 0. Kept small: each level costs the broker. */
export const EXPRESS_PRIORITY = 5;
export const MAX_PRIORITY = 5;

export const DEFAULT_TOPOLOGY_SETTINGS: TopologySettings = {
  retryDelayMs: 1000,
  maxAttempts: 5,
  notificationTtlMs: 60_000,
  queueType: 'classic',
};

/** Which event types each service's queue receives from order.exchange. */
export const SUBSCRIPTIONS: Record<'order' | 'inventory' | 'payment' | 'shipping', EventType[]> = {
  inventory: ['order.created', 'payment.success', 'payment.failed', 'saga.stalled'],
  payment: ['inventory.reserved', 'saga.stalled'],
  shipping: ['payment.success', 'delivery.confirmed', 'saga.stalled'],
  order: ['inventory.out_of_stock', 'payment.success', 'payment.failed', 'shipping.prepared', 'shipping.delivered', 'saga.stalled'],
};

/**
 * Who publishes each event type. Most go straight onto order.exchange with the type as routing key;
 * `via` names a queue the publisher puts it in instead (through the default exchange), from which the
 * broker dead-letters it onto order.exchange later. Under least privilege (docs/architecture.md) the
 * broker lets each service's user publish on order.exchange only its own types, and consumers refuse
 * an event whose broker-checked user_id is not one of its publishers.
 */
export const PUBLISHERS: Record<EventType, { service: ServiceName; via?: string }[]> = {
  'order.created': [{ service: 'order' }],
  'inventory.reserved': [{ service: 'inventory' }],
  'inventory.out_of_stock': [{ service: 'inventory' }],
  'inventory.committed': [{ service: 'inventory' }],
  'inventory.released': [{ service: 'inventory' }],
  'payment.success': [{ service: 'payment' }],
  'payment.failed': [{ service: 'payment' }],
  'order.paid': [{ service: 'order' }],
  'order.shipped': [{ service: 'order' }],
  'order.completed': [{ service: 'order' }],
  'order.rejected': [{ service: 'order' }],
  'order.failed': [{ service: 'order' }],
  'shipping.prepared': [{ service: 'shipping' }],
  'shipping.delivered': [{ service: 'shipping' }],
  // The customer confirms through the HTTP API, or shipping's simulated customer does after a delay.
  'delivery.confirmed': [{ service: 'order' }, { service: 'shipping', via: QUEUES.deliveryDelay }],
  // Whoever sees an order stop moving (solutions/runtime/stall-watch.ts): the order service (an order
  // not ended), inventory (stock held and never settled), audit (a finished order's trail with gaps).
  'saga.stalled': [{ service: 'order' }, { service: 'inventory' }, { service: 'audit' }],
};

/** Request/response endpoints: who answers on the queue, and who may ask (over the default exchange). */
export const RPC_ENDPOINTS: Record<string, { server: ServiceName; callers: ServiceName[] }> = {
  [QUEUES.paymentRpc]: { server: 'payment', callers: ['order'] },
};

/** The audit log wants every event family; notifications only the order status events. */
export const AUDITED_PATTERNS = ['order.*', 'inventory.*', 'payment.*', 'shipping.*', 'delivery.*', 'saga.*'];
export const NOTIFIED_PATTERNS = ['order.*'];

/**
 * Who gets text messages, and about what: the order events worth a text (a routine step like
 * order.paid is email only), for express orders only (the customer paid to know at once). Both are
 * message headers, set by the publisher (routingHeadersFor) and matched by notification.sms.exchange:
 * the routing key stays the event type, so no topic binding has to know about texts.
 */
export const TEXTED_EVENTS: EventType[] = ['order.created', 'order.shipped', 'order.completed', 'order.rejected', 'order.failed'];
export const SMS_HEADERS = { express: 'express', textWorthy: 'text-worthy' } as const;
/** The SMS queue's binding to notification.sms.exchange: both headers, each the boolean true. */
export const SMS_BINDING_ARGUMENTS = { 'x-match': 'all', [SMS_HEADERS.express]: true, [SMS_HEADERS.textWorthy]: true } as const;

/** The headers every event is published with, for the headers exchanges to route on. Booleans, not "true". */
export function routingHeadersFor(event: Pick<DomainEvent, 'type' | 'express'>): Record<string, boolean> {
  return { [SMS_HEADERS.express]: event.express, [SMS_HEADERS.textWorthy]: TEXTED_EVENTS.includes(event.type) };
}

export function buildTopology(settings: TopologySettings = DEFAULT_TOPOLOGY_SETTINGS): Topology {
  // Where a failed message waits: in the quorum queue itself where the broker can delay a retry
  // (4.3+); else in a retry queue of its own. Every retrying queue below is replicated and has no
  // priority under quorum, so layer 4 makes each of them a quorum queue then.
  const waitsIn = settings.queueType === 'quorum' && settings.delayedRetry === true ? 'queue' : 'retry-queue';
  const retry = { kind: 'retry', delayMs: settings.retryDelayMs, maxAttempts: settings.maxAttempts, waitsIn } as const;
  // Quorum queues on 3.10 do not support priorities. On a cluster, replication of the order
  // pipeline matters more than express orders overtaking, so priority is a single-node feature.
  const maxPriority = settings.queueType === 'classic' ? MAX_PRIORITY : undefined;

  const exchanges: ExchangeSpec[] = [
    { name: EXCHANGES.order, type: 'topic', purpose: 'Domain events, routed by event type.', alternateExchange: EXCHANGES.unroutable },
    { name: EXCHANGES.audit, type: 'fanout', purpose: 'A copy of every domain event for the audit log.' },
    { name: EXCHANGES.notification, type: 'fanout', purpose: 'Order status events, broadcast to every notification channel.' },
    {
      name: EXCHANGES.notificationSms,
      type: 'headers',
      purpose: 'Order status events worth a text message, by their headers: express orders, and not the routine steps.',
    },
    { name: EXCHANGES.unroutable, type: 'fanout', purpose: 'Events that matched no binding on order.exchange.' },
    { name: EXCHANGES.retry, type: 'direct', purpose: 'Failed messages, routed by source queue name to its retry queue.' },
    { name: EXCHANGES.deadLetter, type: 'fanout', purpose: 'Messages that cannot be processed, with the reason.' },
  ];

  const serviceQueues: QueueSpec[] = [
    {
      name: QUEUES.order,
      consumer: 'order',
      purpose: 'Order status updates from inventory, payment and shipping.',
      failure: retry,
      maxPriority,
      replicate: true,
    },
    {
      name: QUEUES.inventory,
      consumer: 'inventory',
      purpose: 'Reserve, commit or release stock.',
      failure: retry,
      maxPriority,
      replicate: true,
    },
    { name: QUEUES.payment, consumer: 'payment', purpose: 'Charge for reserved orders.', failure: retry, maxPriority, replicate: true },
    {
      name: QUEUES.shipping,
      consumer: 'shipping',
      purpose: 'Prepare shipments and record deliveries.',
      failure: retry,
      maxPriority,
      replicate: true,
    },
    { name: QUEUES.audit, consumer: 'audit', purpose: 'Every event, for the compliance log.', failure: retry, replicate: true },
  ];

  const waitingInRetryQueues = serviceQueues.filter((q) => q.failure.kind === 'retry' && q.failure.waitsIn === 'retry-queue');

  // Every queue replicates on a cluster. A classic queue lives on one node: while that node is down,
  // declaring the queue fails (so every service that declares it is stuck), and what is routed to it
  // meanwhile is lost even though the publish is confirmed. `npm run chaos -- --cluster` found both
  // with the notification and RPC queues, which were classic because their messages are cheap.
  const queues: QueueSpec[] = [
    ...serviceQueues,
    {
      name: QUEUES.notificationEmail,
      consumer: 'notification',
      purpose: 'Order status emails.',
      failure: { kind: 'park' },
      messageTtlMs: settings.notificationTtlMs,
      deadLetterTo: { exchange: EXCHANGES.deadLetter },
      replicate: true,
    },
    {
      name: QUEUES.notificationSms,
      consumer: 'notification',
      purpose: 'Order status text messages (express orders, events worth a text).',
      failure: { kind: 'park' },
      messageTtlMs: settings.notificationTtlMs,
      deadLetterTo: { exchange: EXCHANGES.deadLetter },
      replicate: true,
    },
    {
      name: QUEUES.paymentRpc,
      consumer: 'payment',
      purpose: 'RPC: "what is the payment status of order X?"',
      failure: { kind: 'none' },
      replicate: true,
    },
    {
      name: QUEUES.deliveryDelay,
      owner: 'shipping',
      purpose:
        'Simulated customer confirmations wait here (per-message TTL) and then dead-letter into order.exchange as delivery.confirmed.',
      failure: { kind: 'none' },
      deadLetterTo: { exchange: EXCHANGES.order, routingKey: 'delivery.confirmed' },
      replicate: true,
    },
    {
      name: QUEUES.unroutable,
      purpose: 'Inspect and fix: events nobody was bound to receive.',
      failure: { kind: 'none' },
      replicate: true,
    },
    {
      name: QUEUES.deadLetter,
      purpose: 'Parked messages with x-failure-reason; inspect, fix, replay.',
      failure: { kind: 'none' },
      replicate: true,
    },
    // One retry queue per queue whose messages wait in one: they wait out the TTL, then dead-letter back home.
    ...waitingInRetryQueues.map((q): QueueSpec => ({
      name: retryQueueName(q.name),
      owner: q.consumer,
      purpose: `Failed messages from ${q.name} wait here before their next try.`,
      failure: { kind: 'none' },
      messageTtlMs: settings.retryDelayMs,
      deadLetterTo: { exchange: '', routingKey: q.name },
      maxPriority: q.maxPriority,
      replicate: true,
    })),
  ];

  const toQueue = (source: string, destination: string, pattern = ''): BindingSpec => ({
    source,
    destination,
    destinationKind: 'queue',
    pattern,
  });
  const toExchange = (source: string, destination: string, pattern = ''): BindingSpec => ({
    source,
    destination,
    destinationKind: 'exchange',
    pattern,
  });

  const bindings: BindingSpec[] = [
    ...Object.entries(SUBSCRIPTIONS).flatMap(([service, types]) =>
      types.map((type) => toQueue(EXCHANGES.order, QUEUES[service as keyof typeof SUBSCRIPTIONS], type)),
    ),
    ...AUDITED_PATTERNS.map((pattern) => toExchange(EXCHANGES.order, EXCHANGES.audit, pattern)),
    ...NOTIFIED_PATTERNS.map((pattern) => toExchange(EXCHANGES.order, EXCHANGES.notification, pattern)),
    toQueue(EXCHANGES.audit, QUEUES.audit),
    toQueue(EXCHANGES.notification, QUEUES.notificationEmail),
    toExchange(EXCHANGES.notification, EXCHANGES.notificationSms),
    { ...toQueue(EXCHANGES.notificationSms, QUEUES.notificationSms), arguments: { ...SMS_BINDING_ARGUMENTS } },
    toQueue(EXCHANGES.unroutable, QUEUES.unroutable),
    toQueue(EXCHANGES.deadLetter, QUEUES.deadLetter),
    ...waitingInRetryQueues.map((q) => toQueue(EXCHANGES.retry, retryQueueName(q.name), q.name)),
  ];

  if (!settings.auditStream) return { exchanges, queues, bindings };
  // The audit log as a stream: audit.queue, its retry queue and the bindings into them make way for
  // audit.stream, bound to audit.fanout.exchange. A stream has no retry and no dead-lettering: the
  // audit service skips what it cannot record, and keeps its place in the stream itself.
  const gone = new Set<string>([QUEUES.audit, retryQueueName(QUEUES.audit)]);
  return {
    exchanges,
    queues: queues.filter((q) => !gone.has(q.name)),
    bindings: bindings.filter((b) => !gone.has(b.destination)),
    streams: [{ ...AUDIT_STREAM, source: EXCHANGES.audit, consumer: 'audit' }],
  };
}

/** The service that declares this queue under least privilege (types.ts QueueSpec.owner). */
export function ownerOf(spec: QueueSpec): ServiceName | undefined {
  return spec.owner ?? spec.consumer;
}

export function queueSpec(topology: Topology, name: string): QueueSpec {
  const spec = topology.queues.find((q) => q.name === name);
  if (!spec) throw new Error(`queue ${name} is not in the topology`);
  return spec;
}

export function exchangeSpec(topology: Topology, name: string): ExchangeSpec {
  const spec = topology.exchanges.find((e) => e.name === name);
  if (!spec) throw new Error(`exchange ${name} is not in the topology`);
  return spec;
}
