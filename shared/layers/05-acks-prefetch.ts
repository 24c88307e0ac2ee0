// Layer 5 (milestone 05): manual acknowledgements, prefetch and idempotent processing.
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';

/** Does the work for one delivery; resolving means "done, ack it", throwing means "failed". */
export type DeliveryHandler = (message: ConsumeMessage) => Promise<void>;

/**
 * Decides what becomes of a delivery whose handler threw (layer 6 provides it). It acks or nacks it:
 * consume does not. It may throw too (publishing can fail): consume logs that and carries on.
 */
export type FailureHandler = (channel: ConfirmChannel, message: ConsumeMessage, error: unknown) => Promise<void>;

export interface ConsumeOptions {
  /** Most unacknowledged deliveries this consumer holds at once. */
  prefetch: number;
  onFailure: FailureHandler;
  /** Called when the broker cancels the consumer (queue deleted, node failover). */
  onCancelled?: () => void;
}

export interface ConsumerHandle {
  readonly consumerTag: string;
  /** Deliveries being handled right now. */
  inFlight(): number;
  /** Stops new deliveries, then waits until every in-flight delivery is acked or nacked. Resolves on a closed channel too. */
  stop(): Promise<void>;
}

/** The record of processed message ids, kept in the same database as the service's state. */
export interface ProcessedMessages {
  transaction<T>(work: () => T): T;
  has(messageId: string): boolean;
  record(messageId: string): void;
}

export interface AckLayer {
  /**
   * Consumes with manual acks and at most `prefetch` unsettled deliveries: each delivery is acked
   * once its handler resolves (that delivery only), or handed to onFailure when it throws; settled
   * exactly once; nothing escapes (a rejection would end the service).
   */
  consume(channel: ConfirmChannel, queue: string, handler: DeliveryHandler, options: ConsumeOptions): Promise<ConsumerHandle>;
  /**
   * Applies a message's effects at most once per message id: the check, the work and the record
   * share one transaction (in either order: it commits or rolls back as one). Returns true when it
   * applied the work, false, doing nothing, for a message already processed; an error of the work or
   * of the record reaches the caller, and nothing of it stays.
   */
  processOnce(store: ProcessedMessages, messageId: string, apply: () => void): boolean;
}
