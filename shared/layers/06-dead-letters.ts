// Layer 6 (milestone 06): dead-letter exchanges, delayed retries and message TTL.
import type { ConfirmChannel, ConsumeMessage, Message } from 'amqplib';
import type { QueueSpec } from '../topology/types.ts';

/** Headers a parked message carries, so whoever inspects the dead-letter queue knows what happened. */
export const PARK_HEADERS = {
  reason: 'x-failure-reason',
  queue: 'x-original-queue',
  exchange: 'x-original-exchange',
  routingKey: 'x-original-routing-key',
  attempts: 'x-attempts',
  parkedAt: 'x-parked-at',
} as const;

export type FailureOutcome = 'retrying' | 'parked';

export interface DeadLetterLayer {
  /**
   * x-dead-letter-exchange, x-dead-letter-routing-key and x-message-ttl for a queue, from its spec;
   * for a queue whose failed messages wait in the queue itself (spec.failure.waitsIn 'queue', RabbitMQ
   * 4.3+ quorum queues), the broker's delayed retry and delivery limit instead.
   */
  queueArguments(spec: QueueSpec): Record<string, unknown>;
  /**
   * How many times this message has failed in the spec's queue already: counted from its x-death
   * header where it waits in a retry queue, from x-delivery-count where it waits in the queue itself.
   */
  attemptsSoFar(message: Pick<Message, 'properties'>, spec: QueueSpec): number;
  /**
   * A handler failed: send it to wait (into the retry queue, or back into a queue that holds it
   * itself) while attempts remain, else park it.
   * Either way the delivery is settled (acked or nacked) exactly once when this resolves; when parking
   * failed it rejects, with the delivery back in its queue. The contract: milestones/06-dead-letters/README.md.
   */
  handleFailure(channel: ConfirmChannel, message: ConsumeMessage, error: unknown, spec: QueueSpec): Promise<FailureOutcome>;
  /**
   * Publishes a persistent copy to the dead-letter exchange (the original's body, properties and
   * headers, plus the PARK_HEADERS), waits for the confirm, then acks the original. If the broker
   * refuses the copy, the original goes back to its queue and this rejects.
   */
  park(channel: ConfirmChannel, message: ConsumeMessage, reason: string, spec: QueueSpec): Promise<void>;
}
