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
    // 🐨 The priority arguments this queue's spec asks for: clause 4.
    void spec;
    return todo(import.meta.url, 'queueArguments');
  },

  priorityFor(event) {
    // 🐨 Express orders overtake standard ones: clause 5. EXPRESS_PRIORITY is the level the workshop
    //    uses.
    void [event, EXPRESS_PRIORITY];
    return todo(import.meta.url, 'priorityFor');
  },

  async startWorkers(openChannel, startConsumer, workers) {
    const running: Worker[] = [];

    const resize = async (target: number): Promise<void> => {
      // 🐨 Grow to `target` workers that compete fairly, and survive one that fails to start:
      //    clauses 1, 2, 3, 7 and 8.
      // 🐨 Shrink to `target` without losing or repeating a message: clauses 6 and 7.
      void [openChannel, startConsumer, target];
      return todo(import.meta.url, 'startWorkers');
    };

    // Given: the pool runs one resize at a time, in the order asked for, so two callers cannot both
    // add the same worker. pool.size is running.length.
    return serializedPool(resize, () => running.length, workers);
  },
};
