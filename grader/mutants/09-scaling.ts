// Known-wrong scaling layers for milestone 9: the reference pool, each with one classic mistake.
import type { ConfirmChannel } from 'amqplib';
import type { ScalingLayer } from '../../shared/layers/09-scaling.ts';
import { serializedPool, type Worker } from '../../shared/layers/09-scaling-worker-pool.ts';
import { scaling as reference } from '../../solutions/layers/09-scaling.ts';
import { defineMutants } from './mutant.ts';

interface PoolMistakes {
  /** Every worker gets the channel the first one opened. */
  sharedChannel?: boolean;
  /** ...and that channel gets one channel-wide prefetch window (global), shared by the whole pool. */
  channelWidePrefetch?: boolean;
  /** A leaving worker's channel is closed before its consumer has finished what it holds. */
  closeBeforeFinishing?: boolean;
  /** Only ever one worker, whatever the count. */
  singleWorker?: boolean;
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
      if (mistakes.closeBeforeFinishing) {
        await channel.close().catch(() => {});
        await consumer.stop();
      } else {
        await consumer.stop();
        await channel.close().catch(() => {});
      }
    };
    const resize = async (wanted: number) => {
      const target = mistakes.singleWorker ? Math.min(wanted, 1) : wanted;
      while (running.length < target) {
        const channel = await open();
        running.push({ channel, consumer: await startConsumer(channel) });
        // One limit for the whole channel (global), set after the consumer's own, which it would otherwise replace.
        if (mistakes.channelWidePrefetch) await channel.prefetch(1, true);
      }
      await Promise.all(running.splice(target).map(stopWorker));
    };
    return serializedPool(resize, () => running.length, workers);
  };
}

export const mutants = defineMutants('scaling', [
  {
    name: 'all workers consume on one channel: stopping one closes it under the others',
    breaks: ['09.scale-down', '09.scale-to'],
    layer: { ...reference, startWorkers: poolWith({ sharedChannel: true }) },
  },
  {
    name: 'no per-worker prefetch: the workers share one channel and its channel-wide prefetch window',
    breaks: ['09.slow-worker'],
    layer: { ...reference, startWorkers: poolWith({ sharedChannel: true, channelWidePrefetch: true }) },
  },
  {
    name: 'priorityFor returns undefined for every event',
    breaks: ['09.priority'],
    layer: { ...reference, priorityFor: () => undefined },
  },
  {
    name: 'queueArguments leaves out x-max-priority',
    breaks: ['09.priority'],
    layer: { ...reference, queueArguments: () => ({}) },
  },
  {
    name: "scaling down closes a leaving worker's channel before its in-flight messages are done",
    breaks: ['09.scale-down'],
    layer: { ...reference, startWorkers: poolWith({ closeBeforeFinishing: true }) },
  },
  {
    name: 'the pool starts one worker, whatever the count asked for',
    breaks: ['09.share-load', '09.scale-to'],
    layer: { ...reference, startWorkers: poolWith({ singleWorker: true }) },
  },
]);
