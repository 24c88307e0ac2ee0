// Layer 7 (milestone 07): request/response over RabbitMQ with reply_to and correlation_id.
import type { Channel } from 'amqplib';
import type { ConsumerHandle } from './05-acks-prefetch.ts';

export class RpcTimeoutError extends Error {
  constructor(readonly queue: string, readonly timeoutMs: number) {
    super(`no reply from ${queue} within ${timeoutMs} ms`);
    this.name = 'RpcTimeoutError';
  }
}

export interface RpcClient {
  /** Sends a JSON request to `queue` and resolves with the parsed JSON reply, or rejects with RpcTimeoutError. */
  call(queue: string, request: unknown): Promise<unknown>;
  /** Rejects calls still waiting, and stops listening for replies. */
  close(): Promise<void>;
}

/** Answers one request; what it returns is sent back as the JSON reply. */
export type RpcHandler = (request: unknown) => Promise<unknown>;

export interface RpcLayer {
  /** A client with its own exclusive reply queue; every call gets a fresh correlation id. */
  createClient(channel: Channel, options: { timeoutMs: number }): Promise<RpcClient>;
  /** Consumes `queue` and replies to each request's reply_to with its correlation_id. */
  serve(channel: Channel, queue: string, handler: RpcHandler): Promise<ConsumerHandle>;
}
