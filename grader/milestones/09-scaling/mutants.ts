// Known-wrong scaling layers for milestone 9 (the reference pool, each with one classic mistake), and
// known-valid ones with other bookkeeping.
import type { ConfirmChannel } from 'amqplib';
import type { ConsumerHandle } from '../../../shared/layers/05-acks-prefetch.ts';
import type { ScalingLayer, WorkerPool } from '../../../shared/layers/09-scaling.ts';
import { serializedPool, type Worker } from '../../../shared/layers/09-scaling-worker-pool.ts';
import { EXPRESS_PRIORITY, QUEUES } from '../../../shared/topology/topology.ts';
import { scaling as reference } from '../../../solutions/layers/09-scaling.ts';
import { defineAlternatives, defineMutants } from '../../mutant.ts';

interface PoolMistakes {
  /** Every worker gets the channel the first one opened. */
  sharedChannel?: boolean;
  /** ...and that channel gets one channel-wide prefetch window (global), shared by the whole pool. */
  channelWidePrefetch?: boolean;
  /** How a leaving worker goes. */
  leave?: 'close-then-stop' | 'stop-not-awaited' | 'never-close' | 'cancel-then-close' | 'close-not-awaited';
  /** The leaving workers are stopped in the background: scaleTo resolves before they are gone. */
  stopsNotAwaited?: boolean;
  /** Only ever one worker, whatever the count. */
  singleWorker?: boolean;
  /** When startConsumer throws: the channel just opened stays open, or the error is swallowed. */
  onFailedStart?: 'leave-channel-open' | 'swallow';
}

function poolWith(mistakes: PoolMistakes): ScalingLayer['startWorkers'] {
  return async (openChannel, startConsumer, workers) => {
    let shared: Promise<ConfirmChannel> | undefined;
    const open = async (): Promise<ConfirmChannel> => {
      if (!mistakes.sharedChannel) return openChannel();
      shared ??= openChannel();
      return shared;
    };
    const running: Worker[] = [];
    const stopWorker = async ({ channel, consumer }: Worker) => {
      switch (mistakes.leave) {
        case 'close-then-stop':
          await channel.close().catch(() => {});
          await consumer.stop();
          return;
        case 'stop-not-awaited':
          void consumer.stop();
          await channel.close().catch(() => {});
          return;
        case 'never-close':
          await consumer.stop();
          return;
        case 'close-not-awaited':
          await consumer.stop();
          void channel.close().catch(() => {});
          return;
        case 'cancel-then-close':
          await channel.cancel(consumer.consumerTag);
          await channel.close().catch(() => {});
          return;
        default:
          await consumer.stop();
          await channel.close().catch(() => {});
      }
    };
    const startWorker = async (): Promise<Worker | undefined> => {
      const channel = await open();
      try {
        return { channel, consumer: await startConsumer(channel) };
      } catch (error) {
        if (mistakes.onFailedStart === 'swallow') {
          await channel.close().catch(() => {});
          return undefined;
        }
        if (mistakes.onFailedStart !== 'leave-channel-open') await channel.close().catch(() => {});
        throw error;
      }
    };
    const resize = async (wanted: number) => {
      const target = mistakes.singleWorker ? Math.min(wanted, 1) : wanted;
      while (running.length < target) {
        const worker = await startWorker();
        if (!worker) break;
        running.push(worker);
        // One limit for the whole channel (global), set after the consumer's own, which it would otherwise replace.
        if (mistakes.channelWidePrefetch) await worker.channel.prefetch(1, true);
      }
      const stopping = Promise.all(running.splice(target).map(stopWorker));
      if (!mistakes.stopsNotAwaited) await stopping;
    };
    return serializedPool(resize, () => running.length, workers);
  };
}

const withPool = (mistakes: PoolMistakes): ScalingLayer => ({ ...reference, startWorkers: poolWith(mistakes) });

export const mutants = defineMutants('scaling', [
  {
    name: 'all workers consume on one channel: stopping one closes it under the others',
    breaks: ['09.share-load', '09.scale-down', '09.scale-to'],
    layer: withPool({ sharedChannel: true }),
  },
  {
    name: 'no per-worker prefetch: the workers share one channel and its channel-wide prefetch window',
    breaks: ['09.share-load'],
    breaksWithGlobalQos: ['09.slow-worker'],
    layer: withPool({ sharedChannel: true, channelWidePrefetch: true }),
  },
  {
    name: 'the pool starts one worker, whatever the count asked for',
    breaks: ['09.share-load', '09.slow-worker', '09.scale-to'],
    layer: withPool({ singleWorker: true }),
  },
  {
    name: "scaling down closes a leaving worker's channel before its in-flight messages are done",
    breaks: ['09.scale-down'],
    layer: withPool({ leave: 'close-then-stop' }),
  },
  {
    name: 'scaling down calls consumer.stop() without awaiting it, then closes the channel',
    breaks: ['09.scale-down'],
    layer: withPool({ leave: 'stop-not-awaited' }),
  },
  {
    name: 'scaling down cancels the consumer (basic.cancel) and closes the channel at once',
    breaks: ['09.scale-down'],
    layer: withPool({ leave: 'cancel-then-close' }),
  },
  {
    name: "a leaving worker's consumer is stopped, but its channel is never closed",
    breaks: ['09.scale-down', '09.scale-to'],
    layer: withPool({ leave: 'never-close' }),
  },
  {
    name: "a leaving worker's channel.close() is not awaited: scaleTo resolves while its channels are still open",
    breaks: ['09.scale-to'],
    layer: withPool({ leave: 'close-not-awaited' }),
  },
  {
    name: 'scaleTo resolves before the leaving workers are gone (the Promise.all is not awaited)',
    breaks: ['09.scale-to'],
    layer: withPool({ stopsNotAwaited: true }),
  },
  {
    name: 'a worker that fails to start leaves its channel open',
    breaks: ['09.failed-start'],
    layer: withPool({ onFailedStart: 'leave-channel-open' }),
  },
  {
    name: 'a worker that fails to start is skipped: scaleTo resolves with fewer workers',
    breaks: ['09.failed-start'],
    layer: withPool({ onFailedStart: 'swallow' }),
  },
  {
    name: 'priorityFor returns undefined for every event',
    breaks: ['09.priority'],
    layer: { ...reference, priorityFor: () => undefined },
  },
  {
    name: 'priorityFor gives the express priority to order.created only, not to the later events of an express order',
    breaks: ['09.priority'],
    layer: { ...reference, priorityFor: (event) => (event.type === 'order.created' && event.express ? EXPRESS_PRIORITY : undefined) },
  },
  {
    name: 'priorityFor tests whether event.express is set rather than true: every event gets the express priority',
    breaks: ['09.priority'],
    layer: { ...reference, priorityFor: (event) => (event.express !== undefined ? EXPRESS_PRIORITY : undefined) },
  },
  {
    name: 'queueArguments leaves out x-max-priority',
    breaks: ['09.priority'],
    layer: { ...reference, queueArguments: () => ({}) },
  },
  {
    name: 'queueArguments makes only inventory.queue a priority queue',
    breaks: ['09.priority'],
    layer: { ...reference, queueArguments: (spec) => (spec.name === QUEUES.inventory && spec.maxPriority !== undefined ? { 'x-max-priority': spec.maxPriority } : {}) },
  },
  {
    name: 'queueArguments gives every queue x-max-priority 5, whatever its spec says',
    breaks: ['09.priority'],
    layer: { ...reference, queueArguments: () => ({ 'x-max-priority': 5 }) },
  },
  {
    name: 'x-max-priority 255, "the most there is"',
    breaks: ['09.priority'],
    layer: { ...reference, queueArguments: (spec) => (spec.maxPriority === undefined ? {} : { 'x-max-priority': 255 }) },
  },
]);

/** A pool of its own (no serializedPool): workers in a Map by consumer tag, the oldest leave first, one after another. */
function oldestFirstPool(openChannel: () => Promise<ConfirmChannel>, startConsumer: (channel: ConfirmChannel) => Promise<ConsumerHandle>, workers: number): Promise<WorkerPool> {
  const byTag = new Map<string, Worker>();
  let queue: Promise<unknown> = Promise.resolve();
  const resize = async (target: number) => {
    while (byTag.size < target) {
      const channel = await openChannel();
      let consumer: ConsumerHandle;
      try {
        consumer = await startConsumer(channel);
      } catch (error) {
        await channel.close().catch(() => {});
        throw error;
      }
      byTag.set(consumer.consumerTag, { channel, consumer });
    }
    for (const [tag, worker] of [...byTag.entries()].slice(0, byTag.size - target)) {
      byTag.delete(tag);
      await worker.consumer.stop();
      try {
        await worker.channel.close();
      } catch {
        // closed already by the broker
      }
    }
  };
  const pool: WorkerPool = {
    get size() {
      return byTag.size;
    },
    scaleTo(target) {
      const done = queue.then(() => resize(target));
      queue = done.catch(() => {});
      return done;
    },
    stop: () => pool.scaleTo(0),
  };
  return pool.scaleTo(workers).then(() => pool);
}

export const alternatives = defineAlternatives('scaling', [
  {
    name: 'standard orders published with priority 0, the arguments spread conditionally',
    layer: {
      ...reference,
      priorityFor: (event) => (event.express ? EXPRESS_PRIORITY : 0),
      queueArguments: (spec) => ({ ...(spec.maxPriority !== undefined && { 'x-max-priority': spec.maxPriority }) }),
    },
  },
  {
    name: 'a pool of its own: a Map by consumer tag, the oldest workers leave first, one after another',
    layer: { ...reference, startWorkers: oldestFirstPool },
  },
  {
    name: 'new workers started together with Promise.all, the leaving ones stopped from the front of the list',
    layer: {
      ...reference,
      async startWorkers(openChannel, startConsumer, workers) {
        const running: Worker[] = [];
        const startOne = async (): Promise<Worker> => {
          const channel = await openChannel();
          return startConsumer(channel).then(
            (consumer) => ({ channel, consumer }),
            async (error: unknown) => {
              await channel.close().catch(() => {});
              throw error;
            },
          );
        };
        const resize = async (target: number) => {
          const started = await Promise.allSettled(Array.from({ length: Math.max(0, target - running.length) }, startOne));
          for (const result of started) if (result.status === 'fulfilled') running.push(result.value);
          const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
          if (failed) throw failed.reason;
          const leaving = running.splice(0, Math.max(0, running.length - target));
          await Promise.all(leaving.map(async ({ channel, consumer }) => {
            await consumer.stop();
            await channel.close().catch(() => {});
          }));
        };
        return serializedPool(resize, () => running.length, workers);
      },
    },
  },
]);
