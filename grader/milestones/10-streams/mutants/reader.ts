// The steps of a stream reader, written out once, for the known-wrong variants of milestone 10 to
// replace one at a time: the prefetch, the offset, the consume options, what comes before consuming,
// the offset given to the handler, the ack, and whether deliveries wait for the one before them.
// With no step replaced it behaves as the reference.
import type { Channel, ConsumeMessage, Options } from 'amqplib';
import type { StreamLayer, StreamOffset } from '../../../../shared/layers/10-streams.ts';
import { offsetArgument, offsetOf, streams as reference } from '../../../../solutions/layers/10-streams.ts';

export interface ReaderSteps {
  prefetch?: (channel: Channel, prefetch: number) => Promise<void>;
  /** What goes into x-stream-offset. */
  offset?: (from: StreamOffset) => unknown;
  /** The options of the consume call; by default noAck false and the offset in `arguments`. */
  consumeOptions?: (from: StreamOffset, offset: unknown) => Options.Consume & Record<string, unknown>;
  beforeConsume?: (channel: Channel, stream: string, from: StreamOffset) => Promise<void>;
  offsetOf?: (message: ConsumeMessage) => number;
  /** Acks each message once handled (default true). */
  ack?: boolean;
  /** Each delivery waits for the one before it (default true); false: handled at once, acked on arrival. */
  inOrder?: boolean;
  /** What a handler's throw does (default: onError, then the ack). */
  onThrow?: 'onError' | 'rethrow';
}

export function readerWith(steps: ReaderSteps): StreamLayer {
  const {
    prefetch = async (channel, count) => void (await channel.prefetch(count)),
    offset = offsetArgument,
    consumeOptions = (_from, value) => ({ noAck: false, arguments: { 'x-stream-offset': value } }),
    offsetOf: offsetFor = offsetOf,
    ack = true,
    inOrder = true,
  } = steps;
  return {
    ...reference,
    async read(channel, stream, handler, options) {
      await prefetch(channel, options.prefetch);
      await steps.beforeConsume?.(channel, stream, options.from);
      let last: Promise<void> = Promise.resolve();
      const handle = async (message: ConsumeMessage) => {
        try {
          await handler(message, offsetFor(message));
        } catch (error) {
          if (steps.onThrow === 'rethrow') throw error;
          options.onError?.(error, message);
        }
        if (ack && inOrder) channel.ack(message);
      };
      const { consumerTag } = await channel.consume(
        stream,
        (message) => {
          if (!message) return;
          if (inOrder) {
            // Chained without a catch of its own: after a throw (onThrow 'rethrow') the chain stays rejected.
            last = last.then(() => handle(message));
            last.catch(() => {}); // a rejection nobody awaits would end the process
            return;
          }
          if (ack) channel.ack(message);
          void handle(message);
        },
        consumeOptions(options.from, offset(options.from)),
      );
      return {
        consumerTag,
        async stop() {
          await channel.cancel(consumerTag).catch(() => {});
          await last.catch(() => {});
        },
      };
    },
  };
}
