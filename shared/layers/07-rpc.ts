// Layer 7 (milestone 07): request/response over RabbitMQ with reply_to and correlation_id.
// The wire format: JSON bodies; a handler's error travels back as {"error": "<message>"} with the
// header x-rpc-error: true. The contract, clause by clause, is in milestones/07-rpc/README.md.
import type { Channel } from 'amqplib';
import type { ConsumerHandle } from './05-acks-prefetch.ts';

export class RpcTimeoutError extends Error {
  constructor(
    readonly queue: string,
    readonly timeoutMs: number,
  ) {
    super(`no reply from ${queue} within ${timeoutMs} ms`);
    this.name = 'RpcTimeoutError';
  }
}

export interface RpcClient {
  /**
   * Sends a JSON request to `queue` (reply_to, a fresh correlation_id, expiration = the timeout) and
   * resolves with the parsed JSON reply; rejects with the server's error message on an error reply,
   * or with RpcTimeoutError after the timeout. However it ends, nothing of the call stays behind.
   */
  call(queue: string, request: unknown): Promise<unknown>;
  /** Rejects the calls still waiting at once, clears their timers, and stops listening for replies (no consumer or reply queue left). */
  close(): Promise<void>;
}

/** Answers one request; what it returns is sent back as the JSON reply (null for undefined), what it throws as an error reply. */
export type RpcHandler = (request: unknown) => Promise<unknown>;

/** Optional, for the system around the layer (the exercise need not use it). */
export interface RpcServeOptions {
  /** The broker cancelled the consumer (its queue was deleted, or its node went down): the caller starts it again. */
  onCancelled?(): void;
}

export interface RpcLayer {
  /** A client with one reply queue of its own (or direct reply-to) and one consumer for all its calls; every call gets a fresh correlation id. */
  createClient(channel: Channel, options: { timeoutMs: number }): Promise<RpcClient>;
  /** Consumes `queue` with manual acks and replies to each request's reply_to with its correlation_id, then acks it (a request without reply_to is acked unanswered). */
  serve(channel: Channel, queue: string, handler: RpcHandler, options?: RpcServeOptions): Promise<ConsumerHandle>;
}
