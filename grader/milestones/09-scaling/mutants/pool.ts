// The reference's worker pool (startWorkers in solutions/layers/09-scaling.ts) written as named
// steps, so a known-wrong pool is the reference with one step done the wrong way:
// `withPool({ stopWorker })`. Each step gets the pool it works for and reaches the others through it.
import type { ConfirmChannel } from 'amqplib';
import type { ConsumerHandle } from '../../../../shared/layers/05-acks-prefetch.ts';
import type { ScalingLayer } from '../../../../shared/layers/09-scaling.ts';
import { serializedPool, type Worker } from '../../../../shared/layers/09-scaling-worker-pool.ts';
import { scaling as reference } from '../../../../solutions/layers/09-scaling.ts';

/** One pool: how it opens channels and starts consumers, its running workers, and its steps. */
export interface Pool {
  openChannel(): Promise<ConfirmChannel>;
  startConsumer(channel: ConfirmChannel): Promise<ConsumerHandle>;
  running: Worker[];
  open(): Promise<ConfirmChannel>;
  startWorker(): Promise<Worker | undefined>;
  stopWorker(worker: Worker): Promise<void>;
}

export interface PoolSteps {
  /** The channel of a new worker: one of its own. */
  open(pool: Pool): Promise<ConfirmChannel>;
  /** Starts a consumer on a new channel; when that fails, closes the channel and rethrows. Undefined: none started. */
  startWorker(pool: Pool): Promise<Worker | undefined>;
  /** Finishes what the worker holds (consumer.stop()), then closes its channel. */
  stopWorker(pool: Pool, worker: Worker): Promise<void>;
  /** Starts workers up to the target, then stops the newest beyond it and waits until they are gone. */
  resize(pool: Pool, target: number): Promise<void>;
}

export const referencePool: PoolSteps = {
  open: (pool) => pool.openChannel(),
  async startWorker(pool) {
    const channel = await pool.open();
    try {
      return { channel, consumer: await pool.startConsumer(channel) };
    } catch (error) {
      await channel.close().catch(() => {});
      throw error;
    }
  },
  async stopWorker(_pool, { channel, consumer }) {
    await consumer.stop();
    await channel.close().catch(() => {});
  },
  async resize(pool, target) {
    while (pool.running.length < target) {
      const worker = await pool.startWorker();
      if (!worker) break;
      pool.running.push(worker);
    }
    await Promise.all(pool.running.splice(target).map(pool.stopWorker));
  },
};

/** The reference layer whose pool has `edit`'s steps in place of the reference's. */
export function withPool(edit: Partial<PoolSteps>): ScalingLayer {
  const steps: PoolSteps = { ...referencePool, ...edit };
  return {
    ...reference,
    startWorkers(openChannel, startConsumer, workers) {
      const pool: Pool = {
        openChannel,
        startConsumer,
        running: [],
        open: () => steps.open(pool),
        startWorker: () => steps.startWorker(pool),
        stopWorker: (worker) => steps.stopWorker(pool, worker),
      };
      return serializedPool(
        (target) => steps.resize(pool, target),
        () => pool.running.length,
        workers,
      );
    },
  };
}
