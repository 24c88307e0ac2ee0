// Milestone 9: competing consumers. The learner's pool runs workers that consume with the reference
// layer 5 (manual acks, prefetch); the checks count who handled what, how much a slow worker holds,
// what the queue's consumer count says, and in which order a priority queue delivers.
import { randomUUID } from 'node:crypto';
import type { ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { ConsumerHandle, FailureHandler } from '../../shared/layers/05-acks-prefetch.ts';
import type { Layers } from '../../shared/layers/index.ts';
import type { WorkerPool } from '../../shared/layers/09-scaling.ts';
import { newEvent } from '../../shared/messages/events.ts';
import { QUEUES, queueSpec } from '../../shared/topology/topology.ts';
import { codec } from '../../solutions/layers/01-publish-consume.ts';
import { type CheckContext, defineChecks, expectThat } from '../check.ts';
import { waitFor } from './support.ts';

const drop: FailureHandler = async (channel, message) => channel.nack(message, false, false);

async function freshQueue(channel: ConfirmChannel, args: Record<string, unknown> = {}): Promise<string> {
  const { queue } = await channel.assertQueue(`work.${randomUUID().slice(0, 8)}`, { durable: false, arguments: args });
  return queue;
}

async function publishMany(channel: ConfirmChannel, queue: string, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `m${i}`);
  for (const id of ids) channel.sendToQueue(queue, Buffer.from(id), { messageId: id });
  await channel.waitForConfirms();
  return ids;
}

/** What the pool gets to open its workers' channels with. */
function channelOpener(connection: ChannelModel): () => Promise<ConfirmChannel> {
  return async () => {
    const channel = await connection.createConfirmChannel();
    channel.on('error', () => {}); // a channel the broker closes must not crash the grader
    return channel;
  };
}

/** startConsumer for the pool: worker n (in start order) consumes with layer 5 and runs handler(n, message). */
function workersRunning(reference: Layers, queue: string, prefetch: number, handler: (worker: number, message: ConsumeMessage) => Promise<void>) {
  let started = 0;
  return (channel: ConfirmChannel): Promise<ConsumerHandle> => {
    const n = started++;
    return reference.acks.consume(channel, queue, (message) => handler(n, message), { prefetch, onFailure: drop });
  };
}

/** Starts the learner's pool and stops it when the check ends. */
async function startPool(context: CheckContext<'scaling'>, connection: ChannelModel, startConsumer: (channel: ConfirmChannel) => Promise<ConsumerHandle>, workers: number): Promise<WorkerPool> {
  const pool = await context.layer.startWorkers(channelOpener(connection), startConsumer, workers);
  context.onCleanup(() => pool.stop().catch(() => {}));
  return pool;
}

/** Message ids handled more than once, or never. */
function countsOff(ids: string[], handled: Map<string, number>): string {
  const twice = [...handled.entries()].filter(([, count]) => count > 1).map(([id, count]) => `${id} ×${count}`);
  const never = ids.filter((id) => !handled.has(id));
  return [twice.length > 0 ? `handled more than once: ${twice.slice(0, 6).join(', ')}` : '', never.length > 0 ? `never handled: ${never.slice(0, 6).join(', ')}` : '']
    .filter(Boolean)
    .join('; ');
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const checks = defineChecks('scaling', [
  {
    id: '09.share-load',
    name: '3 workers share 30 messages: every worker gets some, and each message is handled once',
    hint: 'startWorkers(open, start, 3) opens 3 channels and calls startConsumer once on each; pool.size says how many run.',
    async run(context) {
      const connection = await context.connect();
      const channel = await connection.createConfirmChannel();
      const queue = await freshQueue(channel);
      const perWorker = new Map<number, number>();
      const handled = new Map<string, number>();
      const pool = await startPool(context, connection, workersRunning(context.reference, queue, 1, async (n, message) => {
        await pause(2); // a little work, as a real handler does
        perWorker.set(n, (perWorker.get(n) ?? 0) + 1);
        handled.set(message.properties.messageId, (handled.get(message.properties.messageId) ?? 0) + 1);
      }), 3);
      expectThat(pool.size === 3, 'pool.size = 3', `pool.size = ${pool.size}`);

      const ids = await publishMany(channel, queue, 30);
      const total = () => [...handled.values()].reduce((a, b) => a + b, 0);
      await waitFor(() => (total() >= 30 ? true : undefined), 'all 30 messages handled', () => `${total()} handled, by ${perWorker.size} worker(s)`);
      const shares = [0, 1, 2].map((n) => perWorker.get(n) ?? 0);
      expectThat(shares.every((count) => count > 0), 'every one of the 3 workers to handle some of the 30', `per worker: ${shares.join(', ')}`);
      const off = countsOff(ids, handled);
      expectThat(off === '', 'each of the 30 handled exactly once', off);
    },
  },
  {
    id: '09.slow-worker',
    name: 'a slow worker holds only the message it is working on, and the other workers take the rest',
    hint: "Give each worker its own channel, so each has its own prefetch window: a stuck worker then holds only its own share.",
    async run(context) {
      const connection = await context.connect();
      const channel = await connection.createConfirmChannel();
      const queue = await freshQueue(channel);
      let release: () => void = () => {};
      const released = new Promise<void>((resolve) => (release = resolve));
      let slowHolds = 0;
      let fastHandled = 0;
      await startPool(context, connection, workersRunning(context.reference, queue, 1, async (n) => {
        if (n > 0) return void fastHandled++;
        slowHolds++;
        await released; // worker 0 is stuck on its first message until the check ends
      }), 3);
      context.onCleanup(() => release()); // runs before the pool's stop (last registered, first run), which waits for it

      await publishMany(channel, queue, 20);
      await waitFor(
        () => (fastHandled >= 19 ? true : undefined),
        'the 2 other workers to handle the 19 messages the slow one does not hold',
        () => `they handled ${fastHandled}; the slow worker holds ${slowHolds}. Do the workers share one channel, and with it one prefetch window?`,
        2000,
      );
      expectThat(slowHolds === 1, 'the slow worker (prefetch 1) to hold just 1 message', `it got ${slowHolds}`);
    },
  },
  {
    id: '09.priority',
    name: 'an express order published behind a backlog of standard ones is delivered first',
    hint: "queueArguments gives { 'x-max-priority': spec.maxPriority } when the spec has one; priorityFor gives express events EXPRESS_PRIORITY and standard ones undefined.",
    async run({ layer, connect, topology }) {
      const connection = await connect();
      const channel = await connection.createConfirmChannel();
      const spec = queueSpec(topology, QUEUES.inventory); // has maxPriority: express orders overtake there
      const args = layer.queueArguments(spec);
      const queue = await freshQueue(channel, args);
      const order = (express: boolean, i: number) =>
        newEvent('order.created', { orderId: express ? 'express' : `standard-${i}`, source: 'order', express, payload: { user: 'ada', items: [{ sku: 'tea', quantity: 1 }] } });
      const backlog = [...Array.from({ length: 10 }, (_, i) => order(false, i)), order(true, 10)];
      const priorities = backlog.map((event) => layer.priorityFor(event));
      const [standard, express] = [priorities[0], priorities[10]];
      expectThat(
        typeof express === 'number' && (standard === undefined || standard < express),
        'priorityFor to give the express order a higher priority than a standard one',
        `express: ${express}, standard: ${standard}`,
      );
      for (const [i, event] of backlog.entries()) {
        const { content, options } = codec.encode(event);
        channel.sendToQueue(queue, content, { ...options, priority: priorities[i] });
      }
      await channel.waitForConfirms(); // the whole backlog is queued before anyone consumes

      const seen: string[] = [];
      const consumer = await connection.createChannel();
      await consumer.prefetch(1);
      await consumer.consume(queue, (message) => {
        if (!message) return;
        seen.push(message.properties.correlationId);
        consumer.ack(message);
      });
      await waitFor(() => (seen.length === 11 ? true : undefined), 'all 11 orders delivered', () => `${seen.length} delivered`);
      expectThat(
        seen[0] === 'express',
        'the express order, published last, to be delivered first',
        `it came ${seen.indexOf('express') + 1}th; the queue was declared with ${JSON.stringify(args)} and the express order published with priority ${express}`,
      );
    },
  },
  {
    id: '09.scale-down',
    name: 'scaling from 3 workers to 1 in the middle of a load loses nothing and handles each message once',
    hint: "A leaving worker first stops its consumer (consumer.stop() waits for the messages it holds to be acked), and only then closes its channel.",
    async run(context) {
      const connection = await context.connect();
      const channel = await connection.createConfirmChannel();
      const queue = await freshQueue(channel);
      const ids = await publishMany(channel, queue, 90);
      const handled = new Map<string, number>();
      const total = () => [...handled.values()].reduce((a, b) => a + b, 0);
      const pool = await startPool(context, connection, workersRunning(context.reference, queue, 5, async (_n, message) => {
        await pause(10 + Math.random() * 20); // work under way when the pool shrinks
        handled.set(message.properties.messageId, (handled.get(message.properties.messageId) ?? 0) + 1);
      }), 3);

      await waitFor(() => (total() >= 20 ? true : undefined), 'the load under way', () => `${total()} handled`);
      await pool.scaleTo(1); // the two newest workers finish what they hold, then leave
      const { consumerCount } = await channel.checkQueue(queue);
      expectThat(pool.size === 1 && consumerCount === 1, 'one worker left after scaleTo(1)', `pool.size = ${pool.size}, ${consumerCount} consumers on the queue`);
      await waitFor(
        () => (handled.size >= ids.length ? true : undefined),
        `all ${ids.length} messages handled by the worker that stayed`,
        () => `${handled.size} of ${ids.length} handled`,
      );
      await pool.stop();
      const off = countsOff(ids, handled);
      expectThat(off === '', `each of the ${ids.length} handled exactly once`, `${off}: the messages a leaving worker held were handed back half-done`);
      const { messageCount } = await channel.checkQueue(queue);
      expectThat(messageCount === 0, 'every message acked: none back in the queue after the pool stopped', `${messageCount} back in the queue`);
    },
  },
  {
    id: '09.scale-to',
    name: "scaleTo adds and removes workers: the queue's consumer count goes 1, 3, 1, 0",
    hint: 'Growing opens a channel and starts a consumer per new worker; shrinking stops the newest ones and closes only their channels.',
    async run(context) {
      const connection = await context.connect();
      const channel = await connection.createConfirmChannel();
      const queue = await freshQueue(channel);
      const pool = await startPool(context, connection, workersRunning(context.reference, queue, 1, async () => {}), 1);
      const steps: string[] = [];
      for (const target of [undefined, 3, 1, 0]) {
        if (target !== undefined) await pool.scaleTo(target);
        const { consumerCount } = await channel.checkQueue(queue);
        steps.push(`${target === undefined ? 'start(1)' : `scaleTo(${target})`} → ${consumerCount} consumers, size ${pool.size}`);
        const wanted = target ?? 1;
        expectThat(consumerCount === wanted && pool.size === wanted, `${wanted} consumers on the queue and pool.size ${wanted}`, steps.join('; '));
      }
    },
  },
]);
