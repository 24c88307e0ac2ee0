// Known-wrong acks of a delivery whose handler succeeded: the reference with its ack or its
// handle step written the way a learner gets it wrong.
import { IllegalOperationError } from 'amqplib';
import type { Mutant } from '../../../mutant.ts';
import { consumeWith } from './consumer.ts';

export const ackingMutants: Mutant<'acks'>[] = [
  {
    name: 'consumes with noAck: true',
    breaks: ['05.redelivered', '05.prefetch'],
    layer: consumeWith({
      async start({ channel, queue, prefetch }, onDelivery) {
        await channel.prefetch(prefetch);
        return (await channel.consume(queue, onDelivery, { noAck: true })).consumerTag;
      },
      ack() {}, // with noAck there is nothing to ack
    }),
  },
  {
    name: 'acks a message before its handler runs',
    breaks: ['05.redelivered', '05.failure'],
    layer: consumeWith({
      async handle(consumer, message) {
        consumer.ack(message);
        try {
          await consumer.handler(message);
        } catch (error) {
          await consumer.fail(message, error);
        }
      },
    }),
  },
  {
    name: 'starts the handler and acks at once, without waiting for it',
    breaks: ['05.redelivered', '05.failure', '05.settled-once'],
    layer: consumeWith({
      async handle(consumer, message) {
        void consumer.handler(message).catch((error: unknown) => consumer.fail(message, error));
        consumer.ack(message);
      },
    }),
  },
  {
    name: 'acks with allUpTo: true, so a finished message also acks the earlier ones still in progress',
    breaks: ['05.redelivered'],
    layer: consumeWith({
      ack({ channel }, message) {
        try {
          channel.ack(message, true);
        } catch (error) {
          if (!(error instanceof IllegalOperationError)) throw error;
        }
      },
    }),
  },
  {
    name: 'never acks a message whose handler succeeded (returning from the callback is not an ack)',
    breaks: ['05.redelivered', '05.prefetch', '05.settled-once'],
    layer: consumeWith({ ack() {} }), // "returning from the callback is enough"
  },
  {
    name: 'acks after the handler, and again in a finally',
    breaks: ['05.settled-once', '05.prefetch'],
    layer: consumeWith({
      async handle(consumer, message) {
        try {
          await consumer.handler(message);
          consumer.ack(message);
        } catch (error) {
          await consumer.fail(message, error);
        } finally {
          consumer.ack(message);
        }
      },
    }),
  },
  {
    name: 'an ack on a closed channel throws out of the consumer',
    breaks: ['05.redelivered'],
    layer: consumeWith({ ack: ({ channel }, message) => channel.ack(message) }),
  },
];
