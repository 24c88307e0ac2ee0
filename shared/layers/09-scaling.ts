// Layer 9 (milestone 09): competing consumers, fair dispatch, priority and scaling down safely.
import type { ConfirmChannel } from 'amqplib';
import type { DomainEvent } from '../messages/events.ts';
import type { QueueSpec } from '../topology/types.ts';
import type { ConsumerHandle } from './05-acks-prefetch.ts';

export interface WorkerPool {
  readonly size: number;
  /** Adds workers, or stops the newest ones after they finish what they hold. */
  scaleTo(workers: number): Promise<void>;
  /** Scales to zero. */
  stop(): Promise<void>;
}

export interface ScalingLayer {
  /** x-max-priority for queues whose spec has maxPriority. */
  queueArguments(spec: QueueSpec): Record<string, unknown>;
  /** The AMQP priority an event is published with: higher for express orders, undefined for standard ones. */
  priorityFor(event: DomainEvent): number | undefined;
  /**
   * Starts `workers` competing consumers on one queue, each on its own channel (so each has its own
   * prefetch window), using startConsumer to attach the consumer to a channel.
   */
  startWorkers(
    openChannel: () => Promise<ConfirmChannel>,
    startConsumer: (channel: ConfirmChannel) => Promise<ConsumerHandle>,
    workers: number,
  ): Promise<WorkerPool>;
}
