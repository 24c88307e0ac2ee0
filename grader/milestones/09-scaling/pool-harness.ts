// What milestone 9's pool checks run the learner's pool with: a fresh work queue, the channels the
// pool opens (tracked until the broker's close-ok), workers that consume with the reference layer 5,
// and counts of who handled what.
import { randomUUID } from 'node:crypto';
import type { ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { ConsumerHandle, FailureHandler } from '../../../shared/layers/05-acks-prefetch.ts';
import type { Layers } from '../../../shared/layers/index.ts';
import type { WorkerPool } from '../../../shared/layers/09-scaling.ts';
import type { CheckContext } from '../../check.ts';
import { ignoreErrorsTheCheckReports } from '../../checks/support.ts';

const drop: FailureHandler = async (channel, message) => channel.nack(message, false, false);

export async function publishMany(channel: ConfirmChannel, queue: string, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `m${i}`);
  for (const id of ids) channel.sendToQueue(queue, Buffer.from(id), { messageId: id });
  await channel.waitForConfirms();
  return ids;
}

/** The channels the pool opened through openChannel, and which are still open (closed = the broker's close-ok came back). */
export interface Channels {
  open: () => Promise<ConfirmChannel>;
  opened: { channel: ConfirmChannel; closed: boolean }[];
  openCount(): number;
}

export function trackedChannels(connection: ChannelModel): Channels {
  const opened: Channels['opened'] = [];
  return {
    opened,
    openCount: () => opened.filter((entry) => !entry.closed).length,
    async open() {
      const channel = ignoreErrorsTheCheckReports(await connection.createConfirmChannel());
      const entry = { channel, closed: false };
      channel.on('close', () => (entry.closed = true));
      opened.push(entry);
      return channel;
    },
  };
}

/** startConsumer for the pool: worker n (in start order) consumes with layer 5 and runs handler(n, message); records each worker's channel. */
export function workersRunning(
  reference: Layers,
  queue: string,
  prefetch: number,
  handler: (worker: number, message: ConsumeMessage) => Promise<void>,
) {
  let started = 0;
  const channelOf: ConfirmChannel[] = [];
  const start = (channel: ConfirmChannel): Promise<ConsumerHandle> => {
    const n = started++;
    channelOf[n] = channel;
    return reference.acks.consume(channel, queue, (message) => handler(n, message), { prefetch, onFailure: drop });
  };
  return Object.assign(start, { channelOf });
}

/** A fresh work queue, a channel to publish and count with, and the channels the pool will open, tracked. */
export async function workQueue(context: CheckContext<'scaling'>): Promise<{ channel: ConfirmChannel; queue: string; channels: Channels }> {
  const connection = await context.connect();
  const channel = await connection.createConfirmChannel();
  const { queue } = await channel.assertQueue(`work.${randomUUID().slice(0, 8)}`, { durable: false });
  return { channel, queue, channels: trackedChannels(connection) };
}

/** Starts the learner's pool and stops it when the check ends. */
export async function startPool(
  context: CheckContext<'scaling'>,
  channels: Channels,
  startConsumer: (channel: ConfirmChannel) => Promise<ConsumerHandle>,
  workers: number,
): Promise<WorkerPool> {
  const pool = await context.layer.startWorkers(channels.open, startConsumer, workers);
  context.onCleanup(() => pool.stop().catch(() => {}));
  return pool;
}

/** Message ids handled more than once, or never. */
export function countsOff(ids: string[], handled: Map<string, number>): string {
  const twice = [...handled.entries()].filter(([, count]) => count > 1).map(([id, count]) => `${id} ×${count}`);
  const never = ids.filter((id) => !handled.has(id));
  const parts: string[] = [];
  if (twice.length > 0) parts.push(`handled more than once: ${twice.slice(0, 6).join(', ')}`);
  if (never.length > 0) parts.push(`never handled: ${never.slice(0, 6).join(', ')}`);
  return parts.join('; ');
}

export const count = (handled: Map<string, number>, id: string) => handled.set(id, (handled.get(id) ?? 0) + 1);
export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Pool size, consumers on the queue and channels still open, as one line. */
export async function census(
  channel: ConfirmChannel,
  queue: string,
  pool: WorkerPool,
  channels: Channels,
  openRightAfter = channels.openCount(),
): Promise<{ line: string; consumers: number; open: number }> {
  const { consumerCount } = await channel.checkQueue(queue);
  return {
    line: `pool.size ${pool.size}, ${consumerCount} consumer(s) on the queue, ${openRightAfter} channel(s) open`,
    consumers: consumerCount,
    open: openRightAfter,
  };
}
