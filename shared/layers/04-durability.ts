// Layer 4 (milestone 04): surviving a broker restart, and knowing the broker has a message.
import type { ConfirmChannel, Options } from 'amqplib';
import type { ExchangeSpec, QueueSpec, QueueType } from '../topology/types.ts';
import type { OutgoingMessage } from './01-publish-consume.ts';

/** The broker refused a message (nack), or could not route it anywhere (returned as unroutable). */
export class PublishRejectedError extends Error {
  constructor(readonly reason: string) {
    super(`publish rejected: ${reason}`);
    this.name = 'PublishRejectedError';
  }
}

export interface DurabilityLayer {
  /** Durable exchanges; the alternate exchange, when the spec names one, as an argument. */
  exchangeOptions(spec: ExchangeSpec): Options.AssertExchange;
  /** Durable queues of the requested type (quorum only where spec.replicate and no priority). Arguments are merged in by the caller. */
  queueOptions(spec: QueueSpec, queueType: QueueType): Options.AssertQueue;
  /**
   * Publishes a persistent, mandatory message and resolves only when the broker confirms it.
   * Rejects with PublishRejectedError when the broker nacks it or returns it as unroutable.
   */
  publishConfirmed(channel: ConfirmChannel, exchange: string, routingKey: string, message: OutgoingMessage): Promise<void>;
}
