// Known-wrong handling of a delivery whose handler threw: the reference with its fail step (what
// handle does with a failed delivery) written the way a learner gets it wrong.
import type { Mutant } from '../../../mutant.ts';
import { consumeWith, referenceSteps } from './consumer.ts';

export const failingMutants: Mutant<'acks'>[] = [
  {
    name: 'acks after the try/catch, so a failed message is acked after onFailure too',
    breaks: ['05.failure', '05.settled-once'],
    layer: consumeWith({
      async fail(consumer, message, error) {
        await referenceSteps.fail(consumer, message, error);
        consumer.ack(message);
      },
    }),
  },
  {
    name: 'a failed message is acked silently; onFailure is never called',
    breaks: ['05.failure', '05.settled-once'],
    layer: consumeWith({ fail: async (consumer, message) => consumer.ack(message) }),
  },
  {
    name: "a failed message is nacked with amqplib's default requeue instead of going to onFailure",
    breaks: ['05.failure', '05.settled-once'],
    layer: consumeWith({ fail: async ({ channel }, message) => channel.nack(message) }),
  },
  {
    name: "onFailure's own rejection escapes the consumer",
    breaks: ['05.failure'],
    layer: consumeWith({ fail: ({ channel, onFailure }, message, error) => onFailure(channel, message, error) }),
  },
  {
    name: 'hands a failed message to onFailure without awaiting it: inFlight() and stop() let it go while onFailure still works',
    breaks: ['05.stop-waits'],
    layer: consumeWith({
      async fail({ channel, onFailure }, message, error) {
        void onFailure(channel, message, error).catch(() => {});
      },
    }),
  },
];
