// Layer 9: competing consumers. Each worker has its own channel, so its own prefetch window; the
// broker hands the next message to whichever worker has room. Express orders jump the queue.
import type { ConfirmChannel } from 'amqplib';
import type { ConsumerHandle } from '../../shared/layers/05-acks-prefetch.ts';
import type { ScalingLayer } from '../../shared/layers/09-scaling.ts';
import { serializedPool, type Worker } from '../../shared/layers/09-scaling-worker-pool.ts';
import { EXPRESS_PRIORITY } from '../../shared/topology/topology.ts';

async function startWorker(
  openChannel: () => Promise<ConfirmChannel>,
  startConsumer: (channel: ConfirmChannel) => Promise<ConsumerHandle>,
): Promise<Worker> {
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

    return serializedPool(resize, () => running.length, workers);
  },
};
