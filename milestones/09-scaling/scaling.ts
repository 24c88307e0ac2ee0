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
    // 🐨 Make a queue a priority queue exactly when its spec asks for one, with the levels it asks
    //    for (see README § Priority queues).
    void spec;
    return todo(import.meta.url, 'queueArguments');
  },

  priorityFor(event) {
    // 🐨 Every event of an express order overtakes standard ones; standard events need no priority
    //    (README § Priority queues). EXPRESS_PRIORITY is the level the workshop uses.
    void [event, EXPRESS_PRIORITY];
    return todo(import.meta.url, 'priorityFor');
  },

  async startWorkers(openChannel, startConsumer, workers) {
    const running: Worker[] = [];

    const resize = async (target: number): Promise<void> => {
      // 🐨 Grow to `target` workers, each with a channel of its own (README § Competing consumers,
      //    § One channel per worker). A worker that fails to start leaves nothing open behind it,
      //    and its error reaches the caller.
      // 🐨 Shrink to `target` without losing or repeating a message a leaving worker holds, and
      //    release everything it had, before resize resolves (README § Scaling down gracefully).
      void [openChannel, startConsumer, target];
      return todo(import.meta.url, 'startWorkers');
    };

    // Given: the pool runs one resize at a time, in the order asked for, so two callers cannot both
    // add the same worker. pool.size is running.length.
    return serializedPool(resize, () => running.length, workers);
  },
};
