// What a service is: its domain logic, as handlers per queue and event type, plus optional RPC
// endpoints and extra start-up work. The runtime (service-runtime.ts) supplies everything else.
import type { z } from 'zod';
import type { Layers } from '../../shared/layers/index.ts';
import type { DomainEvent, EventOf, EventType, eventPayloads, ServiceName } from '../../shared/messages/events.ts';
import type { Logger } from '../../shared/log.ts';
import type { ServiceDatabase } from './database.ts';
import type { ServiceConfig } from './service-config.ts';
import type { ServiceMetrics } from '../observability/service-metrics.ts';
import type { ServiceTracing, TraceContext } from '../observability/tracing.ts';
import type { StallFinder } from './stall-watch.ts';
import type { StreamEventHandler } from './stream-readers.ts';

export type EventPayload<T extends EventType> = z.infer<(typeof eventPayloads)[T]>;

export interface EmitOptions {
  /** Publish somewhere other than order.exchange with the event type as key (e.g. straight into a delay queue). */
  route?: { exchange: string; routingKey: string };
  /** Per-message TTL: the message expires after this long in a queue. */
  expirationMs?: number;
  /** The trace this event belongs to (the HTTP request or delivery that caused it); a new trace when unset. */
  trace?: TraceContext;
}

export interface HandlerContext {
  db: ServiceDatabase;
  log: Logger;
  config: ServiceConfig;
  /** Queues an event about the same order for publishing, in the current transaction (via the outbox), in the delivery's trace. */
  emit<T extends EventType>(type: T, payload: EventPayload<T>, options?: Omit<EmitOptions, 'trace'>): void;
  /** Queues again what this service published about the event's order (the sent log, outbox.ts), under the same ids; returns how many. */
  resend(): number;
}

/**
 * Applies one event. Runs synchronously inside the database transaction that also records the
 * message as processed and holds what `emit` queued: it all commits, or none of it does.
 * Throw NotReadyError to be retried later, UnprocessableMessageError to park the message.
 */
export type EventHandler<T extends EventType = EventType> = (event: EventOf<T>, context: HandlerContext) => void;
export type HandlerMap = { [T in EventType]?: EventHandler<T> };

export interface ConsumerDefinition {
  queue: string;
  handlers: HandlerMap;
  /**
   * A sink only records what happened (the audit log, notifications): its queue has no priorities
   * that a large prefetch would defeat, and it takes several messages per order. It is consumed with
   * SINK_PREFETCH instead of PREFETCH, so it keeps up with the rest (docs/performance.md).
   */
  sink?: boolean;
}

export interface RpcDefinition {
  queue: string;
  handle(request: unknown): Promise<unknown>;
}

/** Handed to a service's `start`: the parts of the runtime domain code may use. */
export interface ServiceHost {
  readonly name: ServiceName;
  readonly db: ServiceDatabase;
  readonly log: Logger;
  readonly config: ServiceConfig;
  readonly layers: Layers;
  /** This service's Prometheus metrics (the HTTP API counts its requests there). */
  readonly metrics: ServiceMetrics;
  /** This service's spans (the HTTP API starts each order's trace). */
  readonly tracing: ServiceTracing;
  isBrokerConnected(): boolean;
  /** Messages waiting in the outbox for the broker's confirm. */
  outboxPending(): number;
  /** Queues an event in the outbox; call inside a db transaction. Returns the outbox row id. */
  enqueue(event: DomainEvent, options?: EmitOptions): number;
  /** Nudges the outbox relay and resolves true once that row is confirmed by the broker (false on timeout). */
  waitForPublish(outboxRowId: number, timeoutMs: number): Promise<boolean>;
  /** Calls an RPC endpoint over the broker (rejects with RpcTimeoutError, or when not connected). */
  rpcCall(queue: string, request: unknown): Promise<unknown>;
}

export interface StartedExtras {
  stop(): Promise<void>;
  /** The port the HTTP API listens on, when the service has one. */
  httpPort?: number;
}

export interface ServiceDefinition {
  name: ServiceName;
  /** Creates the service's tables (idempotent; runs at every start). */
  migrate(db: ServiceDatabase): void;
  /** Consumers of queues; one whose queue the topology leaves out (audit.queue with AUDIT_STREAM=on) is not started. */
  consumers: ConsumerDefinition[];
  /**
   * What to do with each event of a stream of the topology this service consumes, by stream name
   * (stream-readers.ts): the audit service's audit.stream, when AUDIT_STREAM=on puts it in the topology.
   */
  streams?: Record<string, StreamEventHandler>;
  rpc?(host: ServiceHost): RpcDefinition[];
  /** How this service tells that an order stopped moving, when it can (stall-watch.ts): it then asks for a re-drive. */
  findStalled?: StallFinder;
  /** Extra start-up work once consumers run (the order service's HTTP API). Returns how to stop it. */
  start?(host: ServiceHost): Promise<StartedExtras>;
}
