// Layer 10 (milestone 10, optional: "Going further"): a stream, a log that anyone can replay. The
// audit service can keep its trail on one (AUDIT_STREAM=on). The contract, clause by clause, is in
// milestones/10-streams/README.md.
import type { Channel, ConsumeMessage } from 'amqplib';
import type { StreamSpec } from '../topology/types.ts';

export type { StreamSpec };

/**
 * Where a reader starts: 'first' (the oldest message kept), 'last' (the last chunk written), 'next'
 * (only what arrives after it attaches), a number (that offset), or a Date (the first message
 * written at or after that moment, to the second).
 */
export type StreamOffset = 'first' | 'last' | 'next' | number | Date;

/** Handles one message; `offset` is its position in the stream. Resolving means done. */
export type StreamHandler = (message: ConsumeMessage, offset: number) => Promise<void> | void;

export interface StreamReadOptions {
  /** Where to start. */
  from: StreamOffset;
  /** Most deliveries held unacknowledged at once (a stream consumer must have one). */
  prefetch: number;
  /** A handler that threw, with its message (the reader acks it and carries on: a stream has no requeue). */
  onError?(error: unknown, message: ConsumeMessage): void;
}

export interface StreamReader {
  readonly consumerTag: string;
  /** Stops new deliveries, then waits for the handlers still running. Resolves on a closed channel too. */
  stop(): Promise<void>;
}

export interface StreamLayer {
  /** Declares `spec.name` as a durable stream, with a retention limit from the spec. */
  declareStream(channel: Channel, spec: StreamSpec): Promise<void>;
  /**
   * Reads `stream` from `options.from` with a prefetch and manual acks: each message goes to the
   * handler with its offset, one at a time, in the stream's order, and is acked once the handler ends.
   */
  read(channel: Channel, stream: string, handler: StreamHandler, options: StreamReadOptions): Promise<StreamReader>;
}
