// The bookkeeping of a worker pool that layer 9 implementations share: a WorkerPool around a resize
// function, one resize at a time, so the interesting part (growing and shrinking) stays in the layer.
import type { ConfirmChannel } from 'amqplib';
import type { ConsumerHandle } from './05-acks-prefetch.ts';
import type { WorkerPool } from './09-scaling.ts';

/** One competing consumer: its own channel (so its own prefetch window) and the consumer on it. */
export interface Worker {
  channel: ConfirmChannel;
  consumer: ConsumerHandle;
}

/**
 * Resizes run one at a time, in the order asked for, so two callers cannot both add the same worker.
 * Resolves once the pool has its first `workers` workers.
 */
export async function serializedPool(resize: (target: number) => Promise<void>, size: () => number, workers: number): Promise<WorkerPool> {
  let resizing = Promise.resolve();
  const scaleTo = (target: number) => {
    const done = resizing.then(() => resize(target));
    resizing = done.catch(() => {});
    return done;
  };
  const pool: WorkerPool = {
    get size() {
      return size();
    },
    scaleTo,
    stop: () => scaleTo(0),
  };
  await scaleTo(workers);
  return pool;
}
