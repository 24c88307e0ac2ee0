// Known-wrong scaling layers for milestone 9 (the reference pool with one step done the wrong way, in
// mutants/pool-mutants.ts; priorities and queue arguments got wrong, here), and known-valid ones
// with other bookkeeping.
import type { ConfirmChannel } from 'amqplib';
import type { ConsumerHandle } from '../../../shared/layers/05-acks-prefetch.ts';
import type { WorkerPool } from '../../../shared/layers/09-scaling.ts';
import { serializedPool, type Worker } from '../../../shared/layers/09-scaling-worker-pool.ts';
import { EXPRESS_PRIORITY, QUEUES } from '../../../shared/topology/topology.ts';
import { scaling as reference } from '../../../solutions/layers/09-scaling.ts';
import { defineAlternatives, defineMutants } from '../../mutant.ts';
import { poolMutants } from './mutants/pool-mutants.ts';

export const mutants = defineMutants('scaling', [
  ...poolMutants,
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
    layer: {
      ...reference,
      queueArguments: (spec) =>
        spec.name === QUEUES.inventory && spec.maxPriority !== undefined ? { 'x-max-priority': spec.maxPriority } : {},
    },
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
function oldestFirstPool(
  openChannel: () => Promise<ConfirmChannel>,
  startConsumer: (channel: ConfirmChannel) => Promise<ConsumerHandle>,
  workers: number,
): Promise<WorkerPool> {
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
          await Promise.all(
            leaving.map(async ({ channel, consumer }) => {
              await consumer.stop();
              await channel.close().catch(() => {});
            }),
          );
        };
        return serializedPool(resize, () => running.length, workers);
      },
    },
  },
]);
