// Known-wrong starts and deliveries: prefetch set too late or never, and the consume callback's
// null (the broker's cancel) or its in-flight bookkeeping got wrong.
import type { ConsumeMessage } from 'amqplib';
import type { Mutant } from '../../../mutant.ts';
import { consumeWith, referenceSteps } from './consumer.ts';

export const deliveringMutants: Mutant<'acks'>[] = [
  {
    name: 'never sets prefetch',
    breaks: ['05.prefetch'],
    layer: consumeWith({
      start: async ({ channel, queue }, onDelivery) => (await channel.consume(queue, onDelivery, { noAck: false })).consumerTag,
    }),
  },
  {
    name: 'sets prefetch after starting the consumer',
    breaks: ['05.prefetch'],
    layer: consumeWith({
      async start({ channel, queue, prefetch }, onDelivery) {
        const { consumerTag } = await channel.consume(queue, onDelivery, { noAck: false });
        await channel.prefetch(prefetch);
        return consumerTag;
      },
    }),
  },
  {
    name: 'the in-flight set is never emptied, so inFlight() only grows',
    breaks: ['05.prefetch', '05.stop-waits'],
    layer: consumeWith({
      deliver(consumer, message) {
        if (message === null) return consumer.onCancelled?.();
        consumer.inFlight.add(consumer.handle(message));
      },
    }),
  },
  {
    name: "ignores the broker's cancel (the null delivery)",
    breaks: ['05.cancelled'],
    layer: consumeWith({
      deliver(consumer, message) {
        if (message !== null) referenceSteps.deliver(consumer, message);
      },
    }),
  },
  {
    name: "hands the broker's cancel (null) to the handler as a message",
    breaks: ['05.cancelled'],
    layer: consumeWith({
      deliver(consumer, message) {
        const settled = consumer.handle(message as ConsumeMessage).finally(() => consumer.inFlight.delete(settled));
        consumer.inFlight.add(settled);
      },
    }),
  },
];
