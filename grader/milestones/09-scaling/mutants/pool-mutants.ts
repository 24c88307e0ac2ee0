// Known-wrong worker pools: the reference pool (pool.ts) with one step done the wrong way.
import type { ConfirmChannel } from 'amqplib';
import type { Mutant } from '../../../mutant.ts';
import { type Pool, type PoolSteps, referencePool, withPool } from './pool.ts';

/** Every worker of a pool gets the channel its first worker opened. */
function oneChannelPerPool(): PoolSteps['open'] {
  const channels = new WeakMap<Pool, Promise<ConfirmChannel>>();
  return (pool) => {
    let channel = channels.get(pool);
    if (!channel) channels.set(pool, (channel = pool.openChannel()));
    return channel;
  };
}

export const poolMutants: Mutant<'scaling'>[] = [
  {
    name: 'all workers consume on one channel: stopping one closes it under the others',
    breaks: ['09.share-load', '09.scale-down', '09.scale-to'],
    layer: withPool({ open: oneChannelPerPool() }),
  },
  {
    name: 'no per-worker prefetch: the workers share one channel and its channel-wide prefetch window',
    breaks: ['09.share-load'],
    breaksWithGlobalQos: ['09.slow-worker'],
    layer: withPool({
      open: oneChannelPerPool(),
      async startWorker(pool) {
        const worker = await referencePool.startWorker(pool);
        // One limit for the whole channel (global), set after the consumer's own, which it would otherwise replace.
        await worker?.channel.prefetch(1, true);
        return worker;
      },
    }),
  },
  {
    name: 'the pool starts one worker, whatever the count asked for',
    breaks: ['09.share-load', '09.slow-worker', '09.scale-to'],
    layer: withPool({ resize: (pool, wanted) => referencePool.resize(pool, Math.min(wanted, 1)) }),
  },
  {
    name: "scaling down closes a leaving worker's channel before its in-flight messages are done",
    breaks: ['09.scale-down'],
    layer: withPool({
      async stopWorker(_pool, { channel, consumer }) {
        await channel.close().catch(() => {});
        await consumer.stop();
      },
    }),
  },
  {
    name: 'scaling down calls consumer.stop() without awaiting it, then closes the channel',
    breaks: ['09.scale-down'],
    layer: withPool({
      async stopWorker(_pool, { channel, consumer }) {
        void consumer.stop();
        await channel.close().catch(() => {});
      },
    }),
  },
  {
    name: 'scaling down cancels the consumer (basic.cancel) and closes the channel at once',
    breaks: ['09.scale-down'],
    layer: withPool({
      async stopWorker(_pool, { channel, consumer }) {
        await channel.cancel(consumer.consumerTag);
        await channel.close().catch(() => {});
      },
    }),
  },
  {
    name: "a leaving worker's consumer is stopped, but its channel is never closed",
    breaks: ['09.scale-down', '09.scale-to'],
    layer: withPool({ stopWorker: (_pool, { consumer }) => consumer.stop() }),
  },
  {
    name: "a leaving worker's channel.close() is not awaited: scaleTo resolves while its channels are still open",
    breaks: ['09.scale-to'],
    layer: withPool({
      async stopWorker(_pool, { channel, consumer }) {
        await consumer.stop();
        void channel.close().catch(() => {});
      },
    }),
  },
  {
    name: 'scaleTo resolves before the leaving workers are gone (the Promise.all is not awaited)',
    breaks: ['09.scale-to'],
    layer: withPool({
      async resize(pool, target) {
        await referencePool.resize(pool, Math.max(target, pool.running.length)); // starts the new ones, stops none
        void Promise.all(pool.running.splice(target).map(pool.stopWorker));
      },
    }),
  },
  {
    name: 'a worker that fails to start leaves its channel open',
    breaks: ['09.failed-start'],
    layer: withPool({
      async startWorker(pool) {
        const channel = await pool.open();
        return { channel, consumer: await pool.startConsumer(channel) };
      },
    }),
  },
  {
    name: 'a worker that fails to start is skipped: scaleTo resolves with fewer workers',
    breaks: ['09.failed-start'],
    layer: withPool({ startWorker: (pool) => referencePool.startWorker(pool).catch(() => undefined) }),
  },
];
