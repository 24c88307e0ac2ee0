// The reference's consume (solutions/layers/05-acks-prefetch.ts) written as named steps, so a
// known-wrong variant is the reference with one step done the wrong way: `consumeWith({ stop })`.
// Each step gets the consumer it works for and reaches the other steps through it (a handle that
// acks calls `consumer.ack`), so replacing ack changes every place that acks.
import { type ConfirmChannel, type ConsumeMessage, IllegalOperationError } from 'amqplib';
import type { AckLayer, ConsumeOptions, DeliveryHandler } from '../../../../shared/layers/05-acks-prefetch.ts';
import { acks as reference } from '../../../../solutions/layers/05-acks-prefetch.ts';

/** One running consumer: what consume was given, the deliveries in hand, and its steps. */
export interface Consumer extends ConsumeOptions {
  channel: ConfirmChannel;
  queue: string;
  handler: DeliveryHandler;
  /** The deliveries being handled: each one's handling, until it settles. */
  inFlight: Set<Promise<void>>;
  ack(message: ConsumeMessage): void;
  fail(message: ConsumeMessage, error: unknown): Promise<void>;
  handle(message: ConsumeMessage): Promise<void>;
}

export interface Steps {
  /** Sets prefetch, then starts the consumer with manual acks; resolves to its tag. */
  start(consumer: Consumer, onDelivery: (message: ConsumeMessage | null) => void): Promise<string>;
  /** Acks this delivery alone, unless the channel has closed meanwhile. */
  ack(consumer: Consumer, message: ConsumeMessage): void;
  /** Hands a failed delivery to onFailure and waits for it; a rejection of onFailure goes no further. */
  fail(consumer: Consumer, message: ConsumeMessage, error: unknown): Promise<void>;
  /** Runs the handler: acks when it resolves, fails the delivery when it throws. Never rejects. */
  handle(consumer: Consumer, message: ConsumeMessage): Promise<void>;
  /** One call of the consume callback: null is the broker's cancel; a message is handled, in flight until settled. */
  deliver(consumer: Consumer, message: ConsumeMessage | null): void;
  /** Cancels the consumer, then waits for the deliveries in hand. Resolves on a closed channel too. */
  stop(consumer: Consumer, consumerTag: string): Promise<void>;
}

export const referenceSteps: Steps = {
  async start({ channel, queue, prefetch }, onDelivery) {
    await channel.prefetch(prefetch);
    return (await channel.consume(queue, onDelivery, { noAck: false })).consumerTag;
  },
  ack({ channel }, message) {
    try {
      channel.ack(message);
    } catch (error) {
      if (!(error instanceof IllegalOperationError)) throw error;
    }
  },
  async fail({ channel, onFailure }, message, error) {
    await onFailure(channel, message, error).catch(() => {});
  },
  async handle(consumer, message) {
    try {
      await consumer.handler(message);
    } catch (error) {
      return consumer.fail(message, error);
    }
    consumer.ack(message);
  },
  deliver(consumer, message) {
    if (message === null) return consumer.onCancelled?.();
    const settled = consumer.handle(message).finally(() => consumer.inFlight.delete(settled));
    consumer.inFlight.add(settled);
  },
  async stop({ channel, inFlight }, consumerTag) {
    await channel.cancel(consumerTag).catch(() => {});
    await Promise.all(inFlight);
  },
};

/** The reference layer whose consume has `edit`'s steps in place of the reference's. */
export function consumeWith(edit: Partial<Steps>): AckLayer {
  const steps: Steps = { ...referenceSteps, ...edit };
  return {
    ...reference,
    async consume(channel, queue, handler, options) {
      const consumer: Consumer = {
        ...options,
        channel,
        queue,
        handler,
        inFlight: new Set(),
        ack: (message) => steps.ack(consumer, message),
        fail: (message, error) => steps.fail(consumer, message, error),
        handle: (message) => steps.handle(consumer, message),
      };
      const consumerTag = await steps.start(consumer, (message) => steps.deliver(consumer, message));
      return { consumerTag, inFlight: () => consumer.inFlight.size, stop: () => steps.stop(consumer, consumerTag) };
    },
  };
}

/** The reference layer with processOnce replaced. */
export const processing = (processOnce: AckLayer['processOnce']): AckLayer => ({ ...reference, processOnce });
