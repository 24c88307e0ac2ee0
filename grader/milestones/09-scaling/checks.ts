// Milestone 9: competing consumers. The learner's pool runs workers that consume with the reference
// layer 5 (manual acks, prefetch); the checks count who handled what, how much a slow worker holds,
// which channels the pool opened and closed (each channel's close is the broker's close-ok), what
// the queue's consumer count says, and in which order the service queues of the real topology
// deliver express and standard events published as the runtime publishes them.
import { randomUUID } from 'node:crypto';
import type { ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { ConsumerHandle, FailureHandler } from '../../../shared/layers/05-acks-prefetch.ts';
import type { Layers } from '../../../shared/layers/index.ts';
import type { WorkerPool } from '../../../shared/layers/09-scaling.ts';
import { type DomainEvent, newEvent } from '../../../shared/messages/events.ts';
import { EXCHANGES, QUEUES, queueSpec } from '../../../shared/topology/topology.ts';
import { declareTopology } from '../../../solutions/runtime/declare-topology.ts';
import { type CheckContext, CheckFailure, defineChecks, expectThat } from '../../check.ts';
import { waitFor } from '../../checks/support.ts';

const drop: FailureHandler = async (channel, message) => channel.nack(message, false, false);


async function publishMany(channel: ConfirmChannel, queue: string, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `m${i}`);
  for (const id of ids) channel.sendToQueue(queue, Buffer.from(id), { messageId: id });
  await channel.waitForConfirms();
  return ids;
}

/** The channels the pool opened through openChannel, and which are still open (closed = the broker's close-ok came back). */
interface Channels {
  open: () => Promise<ConfirmChannel>;
  opened: { channel: ConfirmChannel; closed: boolean }[];
  openCount(): number;
}

function trackedChannels(connection: ChannelModel): Channels {
  const opened: Channels['opened'] = [];
  return {
    opened,
    openCount: () => opened.filter((entry) => !entry.closed).length,
    async open() {
      const channel = await connection.createConfirmChannel();
      channel.on('error', () => {}); // a channel the broker closes must not crash the grader
      const entry = { channel, closed: false };
      channel.on('close', () => (entry.closed = true));
      opened.push(entry);
      return channel;
    },
  };
}

/** startConsumer for the pool: worker n (in start order) consumes with layer 5 and runs handler(n, message); records each worker's channel. */
function workersRunning(reference: Layers, queue: string, prefetch: number, handler: (worker: number, message: ConsumeMessage) => Promise<void>) {
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
async function workQueue(context: CheckContext<'scaling'>): Promise<{ channel: ConfirmChannel; queue: string; channels: Channels }> {
  const connection = await context.connect();
  const channel = await connection.createConfirmChannel();
  const { queue } = await channel.assertQueue(`work.${randomUUID().slice(0, 8)}`, { durable: false });
  return { channel, queue, channels: trackedChannels(connection) };
}

/** Starts the learner's pool and stops it when the check ends. */
async function startPool(context: CheckContext<'scaling'>, channels: Channels, startConsumer: (channel: ConfirmChannel) => Promise<ConsumerHandle>, workers: number): Promise<WorkerPool> {
  const pool = await context.layer.startWorkers(channels.open, startConsumer, workers);
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

const count = (handled: Map<string, number>, id: string) => handled.set(id, (handled.get(id) ?? 0) + 1);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Pool size, consumers on the queue and channels still open, as one line. */
async function census(channel: ConfirmChannel, queue: string, pool: WorkerPool, channels: Channels, openRightAfter = channels.openCount()): Promise<{ line: string; consumers: number; open: number }> {
  const { consumerCount } = await channel.checkQueue(queue);
  return { line: `pool.size ${pool.size}, ${consumerCount} consumer(s) on the queue, ${openRightAfter} channel(s) open`, consumers: consumerCount, open: openRightAfter };
}

const items = [{ sku: 'tea', quantity: 1 }];
/** An event of each type the express path crosses, standard or express. */
const EXPRESS_PATH: { queue: string; event: (orderId: string, express: boolean) => DomainEvent }[] = [
  { queue: QUEUES.inventory, event: (orderId, express) => newEvent('order.created', { orderId, source: 'order', express, payload: { user: 'ada', items } }) },
  { queue: QUEUES.payment, event: (orderId, express) => newEvent('inventory.reserved', { orderId, source: 'inventory', express, payload: { items, amount: 450 } }) },
  { queue: QUEUES.shipping, event: (orderId, express) => newEvent('payment.success', { orderId, source: 'payment', express, payload: { paymentId: `pay-${orderId}`, amount: 450 } }) },
];

export const checks = defineChecks('scaling', [
  {
    id: '09.share-load',
    name: '3 workers share 30 messages, each on a channel of its own: every worker gets some, and each message is handled once',
    hint: 'Each worker is a channel from openChannel with one consumer from startConsumer on it; pool.size says how many run.',
    async run(context) {
      const { channel, queue, channels } = await workQueue(context);
      const perWorker = new Map<number, number>();
      const handled = new Map<string, number>();
      const start = workersRunning(context.reference, queue, 1, async (n, message) => {
        await pause(2); // a little work, as a real handler does
        perWorker.set(n, (perWorker.get(n) ?? 0) + 1);
        count(handled, message.properties.messageId);
      });
      const pool = await startPool(context, channels, start, 3);
      const workerChannels = new Set(start.channelOf);
      expectThat(pool.size === 3 && start.channelOf.length === 3, 'startWorkers(…, 3) to start 3 workers (pool.size 3)', `pool.size ${pool.size}, ${start.channelOf.length} consumer(s) started`);
      expectThat(
        workerChannels.size === 3 && channels.opened.length === 3,
        'each of the 3 workers to consume on a channel of its own, opened with openChannel',
        `${channels.opened.length} channel(s) opened for ${start.channelOf.length} workers; they consume on ${workerChannels.size} distinct channel(s)`,
        workerChannels.size < 3 ? 'Open one channel per worker: with one shared channel, stopping one worker closes the channel under the others.' : undefined,
      );

      const ids = await publishMany(channel, queue, 30);
      const total = () => [...handled.values()].reduce((a, b) => a + b, 0);
      await waitFor(() => (total() >= 30 ? true : undefined), 'all 30 messages handled', () => `${total()} handled, by ${perWorker.size} worker(s)`);
      const shares = [0, 1, 2].map((n) => perWorker.get(n) ?? 0);
      expectThat(shares.every((c) => c > 0), 'every one of the 3 workers to handle some of the 30', `per worker: ${shares.join(', ')}`);
      const off = countsOff(ids, handled);
      expectThat(off === '', 'each of the 30 handled exactly once', off);
    },
  },
  {
    id: '09.slow-worker',
    name: 'a slow worker holds only the message it is working on, and the other workers take the rest',
    hint: 'Give each worker its own channel, so the prefetch window layer 5 sets is that worker\'s alone: a stuck worker then holds only its own share.',
    async run(context) {
      const { channel, queue, channels } = await workQueue(context);
      let release: () => void = () => {};
      const released = new Promise<void>((resolve) => (release = resolve));
      let slowHolds = 0;
      let fastHandled = 0;
      await startPool(context, channels, workersRunning(context.reference, queue, 1, async (n) => {
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
    name: 'express events of every type overtake a backlog of standard ones in the service queues, and a queue without priorities gets none',
    hint: 'Two halves: every queue whose spec has a maxPriority is declared with x-max-priority set to it (and no other queue), and every express event, whatever its type, is published with a higher priority than a standard one.',
    async run(context) {
      const { layer, topology } = context;
      // Priority queues exactly where the topology asks for them, with as many levels as it says
      // (each level costs the broker; a quorum queue on 3.10 refuses x-max-priority altogether).
      for (const spec of topology.queues) {
        const given = layer.queueArguments(spec)['x-max-priority'];
        expectThat(
          given === spec.maxPriority,
          spec.maxPriority === undefined ? `no x-max-priority for ${spec.name} (its spec has no maxPriority)` : `x-max-priority ${spec.maxPriority} for ${spec.name} (its spec's maxPriority)`,
          `queueArguments gave ${JSON.stringify(layer.queueArguments(spec))}`,
          spec.maxPriority === undefined
            ? 'A spec without maxPriority means no priority queue (with QUEUE_TYPE=quorum none has one, and a quorum queue refuses x-max-priority).'
            : given === undefined
              ? `${spec.name}'s spec has a maxPriority: without x-max-priority the broker ignores the priorities of its messages.`
              : 'Each priority level costs the broker memory and CPU: declare as many as the spec says.',
        );
      }
      const connection = await context.connect();
      const setup = await connection.createChannel();
      setup.on('error', () => {});
      try {
        await declareTopology(setup, topology, context.layers, 'classic');
      } catch (error) {
        throw new CheckFailure('the topology to declare with your queueArguments', `it failed: ${error instanceof Error ? error.message : String(error)}`);
      }
      const standard = layer.priorityFor(EXPRESS_PATH[0]!.event('standard', false));
      const args = (queue: string) => JSON.stringify(layer.queueArguments(queueSpec(topology, queue)));

      // As the runtime publishes: layer 1 encodes, layer 2 routes, your priorityFor sets the priority.
      const publisher = await connection.createConfirmChannel();
      const published = new Map<string, number | undefined>();
      for (const { event } of EXPRESS_PATH) {
        const backlog = [...Array.from({ length: 6 }, (_, i) => event(`standard-${i}`, false)), event('express', true)];
        for (const e of backlog) {
          const { content, options } = context.reference.codec.encode(e);
          const priority = layer.priorityFor(e);
          if (priority !== undefined) options.priority = priority;
          if (e.express) published.set(e.type, priority);
          publisher.publish(EXCHANGES.order, context.reference.routing.routingKeyFor(e), content, options);
        }
      }
      await publisher.waitForConfirms(); // the whole backlog is queued before anyone consumes

      for (const { queue } of EXPRESS_PATH) {
        const seen: string[] = [];
        const consumer = await connection.createChannel();
        await consumer.prefetch(1);
        const { messageCount } = await consumer.checkQueue(queue);
        await consumer.consume(queue, (message) => {
          if (!message) return;
          const event = JSON.parse(message.content.toString()) as DomainEvent;
          seen.push(`${event.type}${event.express ? ' (express)' : ''}`);
          consumer.ack(message);
        });
        await waitFor(() => (seen.length === messageCount ? true : undefined), `all ${messageCount} events in ${queue} delivered`, () => `${seen.length} delivered`);
        await consumer.close();
        const expressCount = seen.filter((s) => s.endsWith('(express)')).length;
        const firstStandard = seen.findIndex((s) => !s.endsWith('(express)'));
        const lateExpress = seen.findIndex((s, i) => s.endsWith('(express)') && i > firstStandard);
        const types = [...new Set(seen.filter((s) => s.endsWith('(express)')).map((s) => s.replace(' (express)', '')))];
        expectThat(
          lateExpress === -1,
          `in ${queue}, the ${expressCount} express event(s), published after the backlog, delivered before every standard one`,
          () =>
            `an express ${seen[lateExpress]?.replace(' (express)', '')} came ${lateExpress + 1}th of ${seen.length}; ${queue} was declared with ${args(queue)}, and express ${types.join(', ')} published with priority ${types.map((t) => String(published.get(t))).join(', ')} (standard: ${String(standard)})`,
          args(queue) === '{}' ? `${queue}'s spec has a maxPriority, but your queueArguments gave it no x-max-priority: without it the broker ignores priorities.` : types.some((t) => published.get(t) === undefined || published.get(t) === standard) ? 'Every express event needs the higher priority, whatever its type: the express flag is on the event itself.' : undefined,
        );
      }
    },
  },
  {
    id: '09.scale-down',
    name: 'scaling from 3 workers to 1 in the middle of a load loses nothing, handles each message once, and closes the leaving channels',
    hint: "A leaving worker lets go of its messages the graceful way: no new deliveries, the ones it holds finished and acked, and only then its channel closed.",
    async run(context) {
      const { channel, queue, channels } = await workQueue(context);
      const ids = await publishMany(channel, queue, 90);
      const handled = new Map<string, number>();
      const total = () => [...handled.values()].reduce((a, b) => a + b, 0);
      const pool = await startPool(context, channels, workersRunning(context.reference, queue, 5, async (_n, message) => {
        await pause(10 + Math.random() * 20); // work under way when the pool shrinks
        count(handled, message.properties.messageId);
      }), 3);

      await waitFor(() => (total() >= 20 ? true : undefined), 'the load under way', () => `${total()} handled`);
      await pool.scaleTo(1); // the two newest workers finish what they hold, then leave
      const after = await census(channel, queue, pool, channels);
      expectThat(
        pool.size === 1 && after.consumers === 1 && after.open === 1,
        'one worker left once scaleTo(1) resolved: 1 consumer and 1 channel open',
        after.line,
        after.open > 1 && after.consumers === 1 ? "The leaving workers' consumers stopped, but their channels stayed open: close each one once its consumer is done (and wait for it)." : undefined,
      );
      await waitFor(
        () => (handled.size >= ids.length ? true : undefined),
        `all ${ids.length} messages handled by the worker that stayed`,
        () => `${handled.size} of ${ids.length} handled`,
      );
      await pool.stop();
      const off = countsOff(ids, handled);
      expectThat(off === '', `each of the ${ids.length} handled exactly once`, `${off}: the messages a leaving worker held were handed back half-done`, off.includes('more than once') ? 'A channel closed while its consumer still works hands the unacked messages back to the broker: wait for the consumer to finish first.' : undefined);
      const { messageCount } = await channel.checkQueue(queue);
      expectThat(messageCount === 0, 'every message acked: none back in the queue after the pool stopped', `${messageCount} back in the queue`);
    },
  },
  {
    id: '09.scale-to',
    name: "scaleTo adds and removes workers: consumers and open channels go 1, 3, 1, 0, 2 as scaleTo resolves",
    hint: 'scaleTo resolves once the pool is the size asked for: new workers consuming, leaving ones stopped and their channels closed.',
    async run(context) {
      const { channel, queue, channels } = await workQueue(context);
      const pool = await startPool(context, channels, workersRunning(context.reference, queue, 1, async () => {}), 1);
      const steps: string[] = [];
      for (const target of [undefined, 3, 1, 0, 2]) {
        if (target !== undefined) await pool.scaleTo(target);
        const openRightAfter = channels.openCount(); // read the moment scaleTo resolved
        const { line, consumers, open } = await census(channel, queue, pool, channels, openRightAfter);
        steps.push(`${target === undefined ? 'start(1)' : `scaleTo(${target})`} → ${line}`);
        const wanted = target ?? 1;
        expectThat(
          consumers === wanted && pool.size === wanted && open === wanted,
          `${wanted} consumer(s) on the queue, pool.size ${wanted} and ${wanted} channel(s) open`,
          steps.join('; '),
          open > wanted && consumers <= wanted ? 'The leaving workers stopped consuming, but their channels were still open when scaleTo resolved: close them, and wait for the close.' : undefined,
        );
      }
    },
  },
  {
    id: '09.failed-start',
    name: 'a worker that fails to start leaves no channel open: scaleTo rejects with its error, and the pool still resizes',
    hint: "When startConsumer throws, the channel just opened for that worker is closed before the error goes on to scaleTo's caller.",
    async run(context) {
      const { channel, queue, channels } = await workQueue(context);
      const running = workersRunning(context.reference, queue, 1, async () => {});
      let calls = 0;
      const refusal = new Error('the consumer could not start (the check refuses the third one)');
      const start = (workerChannel: ConfirmChannel) => (++calls === 3 ? Promise.reject(refusal) : running(workerChannel));
      const pool = await startPool(context, channels, start, 1);

      let outcome = 'it resolved';
      try {
        await pool.scaleTo(3);
      } catch (error) {
        outcome = error === refusal ? 'rejected' : `it rejected with another error: ${error instanceof Error ? error.message : String(error)}`;
      }
      expectThat(outcome === 'rejected', 'scaleTo(3) to reject with the error of the worker that could not start', outcome, 'Let the error of startConsumer reach the caller of scaleTo: a pool smaller than asked for must not look like success.');
      const failed = await census(channel, queue, pool, channels);
      expectThat(
        failed.open === failed.consumers && pool.size === failed.consumers,
        'after the failed start, as many channels open as workers running (the failed worker\'s channel closed)',
        failed.line,
        failed.open > failed.consumers ? "The channel opened for the worker that failed to start is still open: close it before passing the error on." : undefined,
      );
      for (const target of [0, 1]) {
        await pool.scaleTo(target);
        const { line, consumers, open } = await census(channel, queue, pool, channels);
        expectThat(consumers === target && open === target && pool.size === target, `the pool still resizes after the failure: scaleTo(${target}) → ${target} consumer(s), ${target} channel(s)`, line);
      }
    },
  },
]);
