// Known-wrong stops: the reference's stop() with its cancel or its wait done the wrong way.
import type { Mutant } from '../../../mutant.ts';
import { consumeWith } from './consumer.ts';

export const stoppingMutants: Mutant<'acks'>[] = [
  {
    name: 'stop() rejects on a closed channel (channel.cancel not caught)',
    breaks: ['05.redelivered'],
    layer: consumeWith({
      async stop({ channel, inFlight }, consumerTag) {
        await channel.cancel(consumerTag);
        await Promise.all(inFlight);
      },
    }),
  },
  {
    name: 'stop() cancels but does not wait for the messages in progress',
    breaks: ['05.stop-waits'],
    layer: consumeWith({
      async stop({ channel }, consumerTag) {
        await channel.cancel(consumerTag).catch(() => {});
      },
    }),
  },
  {
    name: 'stop() waits for the messages in progress, then cancels: deliveries keep coming meanwhile',
    breaks: ['05.stop-waits'],
    layer: consumeWith({
      async stop({ channel, inFlight }, consumerTag) {
        while (inFlight.size > 0) await Promise.all(inFlight);
        await channel.cancel(consumerTag).catch(() => {});
      },
    }),
  },
  {
    name: 'stop() waits but never cancels the consumer',
    breaks: ['05.stop-waits'],
    layer: consumeWith({
      async stop({ inFlight }) {
        await Promise.all(inFlight);
      },
    }),
  },
];
