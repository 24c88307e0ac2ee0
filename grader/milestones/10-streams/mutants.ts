// Known-wrong stream layers for milestone 10, written as a learner gets them wrong, and known-valid
// ones that differ from the reference and must pass. A wrong reader is the reader of
// mutants/reader.ts with one step written the learner's way.
import type { ConsumeMessage } from 'amqplib';
import type { StreamLayer } from '../../../shared/layers/10-streams.ts';
import { offsetArgument, streams as reference } from '../../../solutions/layers/10-streams.ts';
import { defineAlternatives, defineMutants } from '../../mutant.ts';
import { readerWith } from './mutants/reader.ts';

/** The reference declareStream with other queue arguments. */
const declaringWith = (args: (spec: Parameters<StreamLayer['declareStream']>[1]) => Record<string, unknown>): StreamLayer => ({
  ...reference,
  async declareStream(channel, spec) {
    await channel.assertQueue(spec.name, { durable: true, arguments: args(spec) });
  },
});

/** A reader that asks for one message at a time with basic.get, the way one empties a queue. */
const pollingWithGet: StreamLayer['read'] = async (channel, stream, handler) => {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const message = await channel.get(stream, { noAck: false });
      if (!message) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      await handler(message as unknown as ConsumeMessage, Number(message.properties.headers?.['x-stream-offset']));
      channel.ack(message);
    }
  })().catch(() => {}); // the broker closes the connection: basic.get is not for streams
  return {
    consumerTag: 'polling',
    async stop() {
      stopped = true;
      await loop;
    },
  };
};

export const mutants = defineMutants('streams', [
  // 10.declare
  {
    name: 'a classic queue with a size limit (x-queue-type forgotten)',
    breaks: ['10.declare'],
    layer: declaringWith((spec) => ({ 'x-max-length-bytes': spec.retention.maxBytes })),
  },
  {
    name: 'a stream without a retention limit',
    breaks: ['10.declare'],
    layer: declaringWith(() => ({ 'x-queue-type': 'stream' })),
  },
  {
    name: "the audit stream's retention written in, whatever the spec says",
    breaks: ['10.declare'],
    layer: declaringWith(() => ({ 'x-queue-type': 'stream', 'x-max-age': '7D' })),
  },
  // 10.from-first
  {
    name: 'no x-stream-offset: the reader starts at next and misses the history',
    breaks: ['10.from-first', '10.replay', '10.prefetch-acks', '10.timestamp'],
    layer: readerWith({ consumeOptions: () => ({ noAck: false }) }),
  },
  {
    name: 'x-stream-offset among the consume options instead of in their arguments',
    breaks: ['10.from-first', '10.replay', '10.prefetch-acks'],
    layer: readerWith({ consumeOptions: (from) => ({ noAck: false, 'x-stream-offset': offsetArgument(from) }) }),
  },
  {
    name: 'x-stream-offset as an argument of the queue (asserted again before consuming)',
    breaks: ['10.from-first', '10.replay'],
    layer: readerWith({
      beforeConsume: async (channel, stream, from) => {
        await channel.assertQueue(stream, {
          durable: true,
          arguments: { 'x-queue-type': 'stream', 'x-stream-offset': offsetArgument(from) },
        });
      },
      consumeOptions: () => ({ noAck: false }),
    }),
  },
  {
    name: "the delivery tag given as the message's offset",
    breaks: ['10.from-first'],
    layer: readerWith({ offsetOf: (message: ConsumeMessage) => message.fields.deliveryTag }),
  },
  // 10.next-and-last
  {
    name: "always from 'first', whatever offset it is asked for",
    breaks: ['10.next-and-last', '10.timestamp'],
    layer: readerWith({ offset: () => 'first' }),
  },
  {
    name: "'next' and 'last' confused",
    breaks: ['10.next-and-last'],
    layer: readerWith({ offset: (from) => (from === 'next' ? 'last' : from === 'last' ? 'next' : offsetArgument(from)) }),
  },
  // 10.timestamp
  {
    name: 'the Date passed as it is (amqplib sends an empty table)',
    breaks: ['10.timestamp'],
    layer: readerWith({ offset: (from) => from }),
  },
  {
    name: 'the timestamp in milliseconds',
    breaks: ['10.timestamp'],
    layer: readerWith({ offset: (from) => (from instanceof Date ? { '!': 'timestamp', value: from.getTime() } : from) }),
  },
  // 10.replay
  {
    name: 'reads by polling channel.get, as from a queue',
    breaks: ['10.replay', '10.from-first'],
    layer: { ...reference, read: pollingWithGet },
  },
  {
    name: 'a fixed consumer tag for every reader',
    breaks: ['10.replay'],
    layer: readerWith({
      consumeOptions: (from) => ({ noAck: false, consumerTag: 'audit-reader', arguments: { 'x-stream-offset': offsetArgument(from) } }),
    }),
  },
  // 10.prefetch-acks
  {
    name: 'noAck: true ("nothing is removed anyway")',
    breaks: ['10.prefetch-acks', '10.from-first'],
    layer: readerWith({ consumeOptions: (from) => ({ noAck: true, arguments: { 'x-stream-offset': offsetArgument(from) } }), ack: false }),
  },
  {
    name: 'no prefetch set',
    breaks: ['10.prefetch-acks', '10.from-first'],
    layer: readerWith({ prefetch: async () => {} }),
  },
  {
    name: 'never acks ("reading removes nothing, so why ack?")',
    breaks: ['10.prefetch-acks'],
    layer: readerWith({ ack: false }),
  },
  {
    name: 'acks on arrival and handles every message at once',
    breaks: ['10.prefetch-acks'],
    layer: readerWith({ inOrder: false }),
  },
  {
    name: 'no try/catch around the handler: after one throws, every later message waits behind it',
    breaks: ['10.prefetch-acks'],
    layer: readerWith({ onThrow: 'rethrow' }),
  },
]);

/** Retention by age, and both limits: the contract takes either. */
const byAge: StreamLayer = {
  ...reference,
  async declareStream(channel, { name, retention }) {
    await channel.assertQueue(name, { durable: true, arguments: { 'x-queue-type': 'stream', 'x-max-age': retention.maxAge } });
  },
};

/** Another correct reader: 'first' asked for as offset 0, a Date as seconds by hand, a loop over a list of deliveries. */
const byNumbers: StreamLayer = {
  async declareStream(channel, spec) {
    await channel.assertQueue(spec.name, {
      durable: true,
      arguments: { 'x-queue-type': 'stream', 'x-max-length-bytes': spec.retention.maxBytes, 'x-max-age': spec.retention.maxAge },
    });
  },
  async read(channel, stream, handler, options) {
    const from = options.from;
    const offset =
      from === 'first' ? 0 : from instanceof Date ? { '!': 'timestamp', value: Math.round(from.valueOf() / 1000 - 0.5) } : from;
    await channel.prefetch(options.prefetch, false);
    const waiting: ConsumeMessage[] = [];
    let busy = false;
    let idle: (() => void) | undefined;
    const drain = async () => {
      if (busy) return;
      busy = true;
      for (let message = waiting.shift(); message; message = waiting.shift()) {
        try {
          await handler(message, message.properties.headers?.['x-stream-offset'] as number);
        } catch (error) {
          options.onError?.(error, message);
        }
        try {
          channel.ack(message);
        } catch {
          break;
        }
      }
      busy = false;
      idle?.();
    };
    const { consumerTag } = await channel.consume(
      stream,
      (message) => {
        if (!message) return;
        waiting.push(message);
        void drain();
      },
      { arguments: { 'x-stream-offset': offset } },
    );
    return {
      consumerTag,
      stop: async () => {
        await channel.cancel(consumerTag).catch(() => {});
        if (busy) await new Promise<void>((resolve) => (idle = resolve));
      },
    };
  },
};

export const alternatives = defineAlternatives('streams', [
  { name: 'retention by age instead of size', layer: byAge },
  { name: "'first' as offset 0, both retention limits, a queue of deliveries drained in a loop", layer: byNumbers },
]);
