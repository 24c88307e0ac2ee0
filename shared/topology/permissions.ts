// Least privilege on the broker: what each service's own RabbitMQ user may do, derived from the
// topology data (who consumes, owns and publishes what), never written out by hand. RabbitMQ checks
// three regular expressions per user and vhost (configure: declare and delete; write: publish, and
// bind a queue; read: consume, and bind from an exchange) and, on topic exchanges, two more on the
// routing key (write: publish with it; read: bind with it). `npm run broker:setup` applies them.
import { EVENT_TYPES, type EventType, type ServiceName } from '../messages/events.ts';
import { EXCHANGES, ownerOf, PUBLISHERS, RPC_ENDPOINTS, SUBSCRIPTIONS } from './topology.ts';
import type { Topology } from './types.ts';

/** The default exchange's name in permissions: writing to it means publishing to any queue by its name. */
export const DEFAULT_EXCHANGE = 'amq.default';
/** Server-named queues (an RPC caller's exclusive reply queue) are called amq.gen-<random>. */
const SERVER_NAMED_QUEUES = 'amq\\.gen-.*';

export interface ServicePermissions {
  /** Names, as given to RabbitMQ: each list becomes one anchored regular expression. */
  configure: string[];
  write: string[];
  read: string[];
  /** Topic permissions on order.exchange: the routing keys this user may publish with, and bind with. */
  topic: { exchange: string; write: string[]; read: string[] };
  /** Management UI/API tags: the order service reads queue depths for GET /admin/queues. */
  tags: string[];
}

/** Event types the service publishes straight onto order.exchange (not through a queue of its own). */
function eventsPublishedBy(service: ServiceName): EventType[] {
  return EVENT_TYPES.filter((type) => PUBLISHERS[type].some((publisher) => publisher.service === service && publisher.via === undefined));
}

export function permissionsFor(service: ServiceName, topology: Topology): ServicePermissions {
  const owned = topology.queues.filter((queue) => ownerOf(queue) === service).map((queue) => queue.name);
  const consumed = topology.queues.filter((queue) => queue.consumer === service).map((queue) => queue.name);
  // A stream (AUDIT_STREAM=on) is declared, bound and read by the service that reads it, as a queue it owns.
  const streams = (topology.streams ?? []).filter((stream) => stream.consumer === service);
  const rpcCaller = Object.values(RPC_ENDPOINTS).some((endpoint) => endpoint.callers.includes(service));
  const rpcServer = Object.values(RPC_ENDPOINTS).some((endpoint) => endpoint.server === service);
  const publishesByQueueName = EVENT_TYPES.some((type) =>
    PUBLISHERS[type].some((publisher) => publisher.service === service && publisher.via !== undefined),
  );
  // Binding a queue needs write on the queue and read on the exchange the binding comes from.
  const bindsFrom = [
    ...new Set([
      ...topology.bindings
        .filter((binding) => binding.destinationKind === 'queue' && owned.includes(binding.destination))
        .map((binding) => binding.source),
      ...streams.map((stream) => stream.source),
    ]),
  ];
  const published = eventsPublishedBy(service);
  const subscribedKeys = service in SUBSCRIPTIONS ? SUBSCRIPTIONS[service as keyof typeof SUBSCRIPTIONS] : [];

  const streamNames = streams.map((stream) => stream.name);
  const literal = (names: string[]) => names.map(escapeRegExp);
  return {
    configure: [...literal([...owned, ...streamNames]), ...(rpcCaller ? [SERVER_NAMED_QUEUES] : [])],
    write: literal([
      ...owned,
      ...streamNames,
      ...(published.length > 0 ? [EXCHANGES.order] : []),
      // Parking a message publishes a copy with its reason to the dead-letter exchange (layer 6).
      ...(consumed.length > 0 ? [EXCHANGES.deadLetter] : []),
      // RPC requests, RPC replies and the delay queue are addressed to a queue by name.
      ...(rpcCaller || rpcServer || publishesByQueueName ? [DEFAULT_EXCHANGE] : []),
    ]),
    read: [...literal([...owned, ...streamNames, ...bindsFrom]), ...(rpcCaller ? [SERVER_NAMED_QUEUES] : [])],
    topic: { exchange: EXCHANGES.order, write: literal(published), read: literal(subscribedKeys) },
    tags: service === 'order' ? ['management'] : [],
  };
}

/**
 * One anchored expression matching exactly these names (or patterns). An empty list must match
 * nothing: for vhost permissions RabbitMQ reads '' as "no access", but a topic permission's '' would
 * match every routing key, so there it is an expression that never matches.
 */
export function anchored(patterns: string[], kind: 'vhost' | 'topic' = 'vhost'): string {
  if (patterns.length === 0) return kind === 'vhost' ? '' : '(?!)';
  return `^(${patterns.join('|')})$`;
}

function escapeRegExp(name: string): string {
  return name.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
}
