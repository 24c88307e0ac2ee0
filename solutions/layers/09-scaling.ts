// Layer 9: competing consumers. Each worker has its own channel, so its own prefetch window; the
// broker hands the next message to whichever worker has room. Express orders jump the queue.
import type { ConfirmChannel } from 'amqplib';
import type { ConsumerHandle } from '../../shared/layers/acks.ts';
import type { ScalingLayer, WorkerPool } from '../../shared/layers/scaling.ts';
import { EXPRESS_PRIORITY } from '../../shared/topology/topology.ts';

interface Worker {
  channel: ConfirmChannel;
  consumer: ConsumerHandle;
}

async function startWorker(openChannel: () => Promise<ConfirmChannel>, startConsumer: (channel: ConfirmChannel) => Promise<ConsumerHandle>): Promise<Worker> {
  const channel = await openChannel();
  try {
    return { channel, consumer: await startConsumer(channel) };
  } catch (error) {
    await channel.close().catch(() => {});
    throw error;
  }
}

/** Finishes what the worker holds (every in-flight message acked or nacked), then lets its channel go. */
async function stopWorker({ channel, consumer }: Worker): Promise<void> {
  await consumer.stop();
  // Already closed (by the broker, or with its connection) is fine: there is nothing left to release.
  await channel.close().catch(() => {});
}

export const scaling: ScalingLayer = {
  queueArguments: (spec) => (spec.maxPriority === undefined ? {} : { 'x-max-priority': spec.maxPriority }),

  priorityFor: (event) => (event.express ? EXPRESS_PRIORITY : undefined),

  async startWorkers(openChannel, startConsumer, workers) {
    const running: Worker[] = [];

    const resize = async (target: number) => {
      while (running.length < target) running.push(await startWorker(openChannel, startConsumer));
      const leaving = running.splice(target); // the newest ones
      await Promise.all(leaving.map(stopWorker));
    };

    // One resize at a time, in the order asked for, so two callers can't both add the same worker.
    let resizing = Promise.resolve();
    const scaleTo = (target: number) => {
      const done = resizing.then(() => resize(target));
      resizing = done.catch(() => {});
      return done;
    };

    const pool: WorkerPool = {
      get size() {
        return running.length;
      },
      scaleTo,
      stop: () => scaleTo(0),
    };
    await scaleTo(workers);
    return pool;
  },
};
