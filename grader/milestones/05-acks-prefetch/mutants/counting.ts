// Known-wrong in-flight counts, each a whole consume a learner writes with a counter of its own:
// the count goes down at the wrong moment, so inFlight() and stop() are wrong about what is in hand.
import type { AckLayer } from '../../../../shared/layers/05-acks-prefetch.ts';
import { acks as reference } from '../../../../solutions/layers/05-acks-prefetch.ts';
import type { Mutant } from '../../../mutant.ts';

/** The in-flight count goes down only when a handler succeeds; stop() waits for it to reach 0. */
const countOnlySuccesses: AckLayer['consume'] = async (channel, queue, handler, { prefetch, onFailure, onCancelled }) => {
  await channel.prefetch(prefetch);
  let active = 0;
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- a learner's async callback: it catches its handler's errors itself
  const { consumerTag } = await channel.consume(queue, async (message) => {
    if (message === null) return onCancelled?.();
    active++;
    try {
      await handler(message);
      channel.ack(message);
      active--;
    } catch (error) {
      await onFailure(channel, message, error).catch(() => {});
    }
  });
  return {
    consumerTag,
    inFlight: () => active,
    async stop() {
      await channel.cancel(consumerTag).catch(() => {});
      while (active > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    },
  };
};

/** The in-flight count goes down once the handler settles, before onFailure runs; stop() waits for it to reach 0. */
const countOutBeforeOnFailure: AckLayer['consume'] = async (channel, queue, handler, { prefetch, onFailure, onCancelled }) => {
  await channel.prefetch(prefetch);
  let active = 0;
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- a learner's async callback: it catches its handler's errors itself
  const { consumerTag } = await channel.consume(queue, async (message) => {
    if (message === null) return onCancelled?.();
    active++;
    let failure: { error: unknown } | undefined;
    try {
      await handler(message);
    } catch (error) {
      failure = { error };
    } finally {
      active--;
    }
    if (failure) await onFailure(channel, message, failure.error).catch(() => {});
    else channel.ack(message);
  });
  return {
    consumerTag,
    inFlight: () => active,
    async stop() {
      await channel.cancel(consumerTag).catch(() => {});
      while (active > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    },
  };
};

export const countingMutants: Mutant<'acks'>[] = [
  {
    name: 'counts a delivery out of inFlight() only when its handler succeeded',
    breaks: ['05.settled-once'],
    layer: { ...reference, consume: countOnlySuccesses },
  },
  {
    name: 'counts a delivery out of inFlight() in a finally around its handler, before onFailure has run',
    breaks: ['05.stop-waits'],
    layer: { ...reference, consume: countOutBeforeOnFailure },
  },
];
