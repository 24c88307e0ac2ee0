// The shapes of the topology data. The values live in topology.ts.
import type { ServiceName } from '../messages/events.ts';

export type ExchangeType = 'topic' | 'direct' | 'fanout' | 'headers';

export interface ExchangeSpec {
  name: string;
  type: ExchangeType;
  /** One sentence for the docs and the management UI tour. */
  purpose: string;
  /** Where messages go that no binding matches, instead of being dropped. */
  alternateExchange?: string;
}

/** What happens to a message whose handler fails. */
export type FailurePolicy =
  /**
   * Wait delayMs, come back, try again; after maxAttempts tries park it in the dead-letter queue.
   * `waitsIn` says where the message waits: 'retry-queue', its `<queue>.retry` (a TTL, then
   * dead-lettered home: any broker), or 'queue', held by the quorum queue itself (the broker's
   * delayed retry, RabbitMQ 4.3 and later), with no retry queue.
   */
  | { kind: 'retry'; delayMs: number; maxAttempts: number; waitsIn: 'retry-queue' | 'queue' }
  /** No second try (a late notification is worse than none): park it in the dead-letter queue at once. */
  | { kind: 'park' }
  /** Nothing to do: no consumer reads this queue, or the caller handles failure (RPC). */
  | { kind: 'none' };

export interface QueueSpec {
  name: string;
  purpose: string;
  /** The service that consumes it; undefined for queues nobody consumes (parking, delay). */
  consumer?: ServiceName;
  /**
   * Who declares it when each service logs in as its own broker user (least privilege): its consumer
   * unless this says otherwise (a retry queue is its home queue's consumer's; the delivery-delay
   * queue is shipping's, which publishes into it). A queue with neither is declared only by
   * `npm run broker:setup` (the parking and unroutable queues, for operators).
   */
  owner?: ServiceName;
  failure: FailurePolicy;
  /** x-max-priority: express orders overtake standard ones waiting in this queue. */
  maxPriority?: number;
  /** x-message-ttl: a message older than this expires (and is dead-lettered if deadLetterTo is set). */
  messageTtlMs?: number;
  /** Native dead-lettering target for expired or rejected messages (x-dead-letter-exchange/-routing-key). */
  deadLetterTo?: { exchange: string; routingKey?: string };
  /**
   * Whether this queue should be a replicated quorum queue when the broker is a cluster and the
   * queue-type setting is `quorum`. Priority queues stay classic: quorum queues on 3.10 ignore priority.
   */
  replicate: boolean;
}

export interface BindingSpec {
  /** The exchange messages come from. */
  source: string;
  destination: string;
  destinationKind: 'queue' | 'exchange';
  /** Routing key or pattern; ignored by fanout and headers exchanges ('' by convention). */
  pattern: string;
  /**
   * Binding arguments, declared as they are. On a headers exchange they are what the binding matches:
   * `x-match` ('all' or 'any') and each header with its value, type included (boolean true is not
   * the string "true"). The broker tells bindings apart by their arguments too.
   */
  arguments?: Record<string, unknown>;
}

/** A stream of the topology (milestone 10): declared with the stream layer, fed by `source` (a fanout exchange), read by `consumer`. */
export interface TopologyStream extends StreamSpec {
  source: string;
  consumer: ServiceName;
}

export interface Topology {
  exchanges: ExchangeSpec[];
  queues: QueueSpec[];
  bindings: BindingSpec[];
  /** Streams, declared after the exchanges: only the audit stream, and only with the auditStream setting. */
  streams?: TopologyStream[];
}

/** A stream to declare: its name, and how much of its past it keeps. */
export interface StreamSpec {
  name: string;
  /** Either limit, or both, may bound the log: the oldest segments go once the stream is larger, or older, than this. */
  retention: {
    /** x-max-length-bytes: the most the log may hold, in bytes. */
    maxBytes: number;
    /** x-max-age: the oldest a message may be, as the broker writes it: '7D', '12h', '30m', '90s'. */
    maxAge: string;
  };
}

export type QueueType = 'classic' | 'quorum';

export interface TopologySettings {
  /** Delay before a failed message is tried again. */
  retryDelayMs: number;
  /** Deliveries of one message (first try included) before it is parked. */
  maxAttempts: number;
  /** A notification older than this is useless: it expires into the dead-letter queue. */
  notificationTtlMs: number;
  /** classic on a single node; quorum for the replicated queues on a cluster. */
  queueType: QueueType;
  /**
   * The broker can hold a returned message itself before redelivering it: a quorum queue's delayed
   * retry, RabbitMQ 4.3 and later (shared/broker/broker-features.ts reads it from the broker). With
   * queueType quorum, the retrying queues then wait in place of a retry queue; unset means no.
   */
  delayedRetry?: boolean;
  /**
   * AUDIT_STREAM=on: the audit log is kept in audit.stream (milestone 10) instead of audit.queue,
   * which the topology then leaves out with its retry queue. Off (undefined) by default.
   */
  auditStream?: boolean;
}
