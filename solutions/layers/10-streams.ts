// Layer 10: a stream is an append-only log. Reading does not remove anything: each reader says where
// to start (x-stream-offset) and the broker delivers from there, with a prefetch and manual acks.
import type { ConsumeMessage } from 'amqplib';
import type { StreamLayer, StreamOffset } from '../../shared/layers/10-streams.ts';

/** The consume argument for an offset: a Date travels as an AMQP timestamp, in whole seconds (amqplib would send a bare Date as an empty table). */
export function offsetArgument(from: StreamOffset): unknown {
  return from instanceof Date ? { '!': 'timestamp', value: Math.floor(from.getTime() / 1000) } : from;
}

/** The offset the broker puts on each delivery from a stream (a number; a long decoded by amqplib). */
export function offsetOf(message: ConsumeMessage): number {
  return Number(message.properties.headers?.['x-stream-offset']);
}

export const streams: StreamLayer = {
  async declareStream(channel, spec) {
    await channel.assertQueue(spec.name, {
      durable: true,
      arguments: { 'x-queue-type': 'stream', 'x-max-length-bytes': spec.retention.maxBytes },
    });
  },

  async read(channel, stream, handler, { from, prefetch, onError }) {
    await channel.prefetch(prefetch);
    // One handler at a time, in the stream's order: each delivery waits for the one before it.
    let last: Promise<void> = Promise.resolve();
    const handle = async (message: ConsumeMessage) => {
      try {
        await handler(message, offsetOf(message));
      } catch (error) {
        onError?.(error, message);
      }
      // Acked whatever the handler did: a stream has no requeue, and the ack only makes room in the prefetch.
      try {
        channel.ack(message);
      } catch {
        // The channel closed meanwhile: nothing is left to ack.
      }
    };
    const { consumerTag } = await channel.consume(
      stream,
      (message) => {
        if (message) last = last.then(() => handle(message));
      },
      { noAck: false, arguments: { 'x-stream-offset': offsetArgument(from) } },
    );
    return {
      consumerTag,
      async stop() {
        await channel.cancel(consumerTag).catch(() => {}); // a closed channel has no consumer left
        await last;
      },
    };
  },
};
