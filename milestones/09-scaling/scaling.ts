// Milestone 9: scaling with competing consumers. Several workers take turns on one queue, express
// orders overtake a backlog, and a pool shrinks without dropping the messages its workers hold.
// Read README.md in this folder first. Run `npm run milestone -- 9` to watch it work,
// `npm run grade -- 9` to check it.
import { todo } from '../../shared/workshop/exercise.ts';
import type { ScalingLayer } from '../../shared/layers/09-scaling.ts';
import { serializedPool, type Worker } from '../../shared/layers/09-scaling-worker-pool.ts';
import { EXPRESS_PRIORITY } from '../../shared/topology/topology.ts';

export const scaling: ScalingLayer = {
  queueArguments(spec) {
    // 🐨 { 'x-max-priority': spec.maxPriority } when the spec has a maxPriority, else {}.
    return todo(import.meta.url, 'queueArguments');
  },

  priorityFor(event) {
    // 🐨 EXPRESS_PRIORITY for an express order (event.express), undefined for a standard one.
    return todo(import.meta.url, 'priorityFor');
  },

  async startWorkers(openChannel, startConsumer, workers) {
    const running: Worker[] = [];

    const resize = async (target: number): Promise<void> => {
      // 🐨 1. Growing: while running.length < target, open a channel with openChannel(), start a consumer
      //       on it with startConsumer(channel), and push { channel, consumer }. One channel per worker: each
      //       gets its own prefetch window, and closing one worker's channel must not touch the others.
      //       (If startConsumer throws, close the channel you just opened, then rethrow.)
      // 🐨 2. Shrinking: const leaving = running.splice(target) (the newest workers). Stop them all at once
      //       (Promise.all), each in this order: await consumer.stop() (no new deliveries, and it waits until
      //       every message it holds is acked), THEN await channel.close(). Closing first would hand those
      //       messages back to the broker half-done, to be handled a second time.
      // 💰 channel.close() on a channel the broker already closed rejects: .catch(() => {}) it.
      return todo(import.meta.url, 'startWorkers');
    };

    // Given: the pool runs one resize at a time, in the order asked for, so two callers cannot both
    // add the same worker.
    return serializedPool(resize, () => running.length, workers);
  },
};
