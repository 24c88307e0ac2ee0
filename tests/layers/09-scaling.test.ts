// Layer 9: competing consumers on a real broker. Workers share a load, a slow worker does not hold
// messages the others could process, express messages overtake a backlog, and scaling down mid-load
// finishes what each leaving worker holds: every message is acked exactly once.
import { randomUUID } from 'node:crypto';
import { type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import type { ConsumerHandle } from '../../shared/layers/05-acks-prefetch.ts';
import { newEvent } from '../../shared/messages/events.ts';
import { EXPRESS_PRIORITY, MAX_PRIORITY } from '../../shared/topology/topology.ts';
import type { QueueSpec } from '../../shared/topology/types.ts';
import { codec } from '../../solutions/layers/01-publish-consume.ts';
import { acks } from '../../solutions/layers/05-acks-prefetch.ts';
import { scaling } from '../../solutions/layers/09-scaling.ts';
import { eventually } from '../support/eventually.ts';
import { useVhostChannel } from '../support/vhost.ts';
import { drop, gate } from '../../grader/milestones/05-acks-prefetch/support.ts';

const broker = useVhostChannel('layer-09');

const openChannel = () => broker.connection.createConfirmChannel();

async function freshQueue(args: Record<string, unknown> = {}): Promise<string> {
  const { queue } = await broker.channel.assertQueue(`work.${randomUUID().slice(0, 8)}`, { durable: false, arguments: args });
  return queue;
}

async function publishMany(queue: string, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `m${i}`);
  for (const id of ids) broker.channel.sendToQueue(queue, Buffer.from(id), { messageId: id });
  await broker.channel.waitForConfirms();
  return ids;
}

/** startConsumer for a pool: worker n (in start order) runs handler(n, message). */
function workersRunning(queue: string, prefetch: number, handler: (worker: number, message: ConsumeMessage) => Promise<void>) {
  let started = 0;
  return (worker: ConfirmChannel): Promise<ConsumerHandle> => {
    const n = started++;
    return acks.consume(worker, queue, (message) => handler(n, message), { prefetch, onFailure: drop });
  };
}

describe('scaling', () => {
  it('asks for x-max-priority only where the spec has a priority, and prioritises express events', () => {
    const spec: QueueSpec = { name: 'q', purpose: 'test', failure: { kind: 'none' }, replicate: false };
    expect(scaling.queueArguments(spec)).toEqual({});
    expect(scaling.queueArguments({ ...spec, maxPriority: MAX_PRIORITY })).toEqual({ 'x-max-priority': MAX_PRIORITY });
    const order = (express: boolean) =>
      newEvent('order.created', { orderId: 'o', source: 'order', express, payload: { user: 'u', items: [{ sku: 's', quantity: 1 }] } });
    expect(scaling.priorityFor(order(true))).toBe(EXPRESS_PRIORITY);
    expect(scaling.priorityFor(order(false))).toBeUndefined();
  });

  it('shares a load among 3 workers, each on its own channel', async () => {
    const queue = await freshQueue();
    const perWorker = [0, 0, 0];
    const pool = await scaling.startWorkers(
      openChannel,
      workersRunning(queue, 1, async (n) => void perWorker[n]!++),
      3,
    );
    expect(pool.size).toBe(3);
    expect((await broker.channel.checkQueue(queue)).consumerCount).toBe(3);

    await publishMany(queue, 30);
    await eventually(() => perWorker.reduce((a, b) => a + b) === 30, { what: 'all 30 handled' });
    expect(
      perWorker.every((count) => count > 0),
      `🚨 every worker should get some: ${String(perWorker)}`,
    ).toBe(true);

    await pool.stop();
    expect(pool.size).toBe(0);
    expect((await broker.channel.checkQueue(queue)).consumerCount).toBe(0);
  });

  it('does not let a slow worker with prefetch 1 starve the others', async () => {
    const queue = await freshQueue();
    const slowWorkDone = gate();
    let slowHolds = 0;
    let fastHandled = 0;
    const pool = await scaling.startWorkers(
      openChannel,
      workersRunning(queue, 1, async (n) => {
        if (n > 0) return void fastHandled++;
        slowHolds++;
        await slowWorkDone.opened; // worker 0 is stuck on its first message
      }),
      3,
    );

    await publishMany(queue, 20);
    await eventually(() => fastHandled === 19, { what: 'the two fast workers to handle all but one message' });
    expect(slowHolds, '🚨 the slow worker should hold just the one message it is working on').toBe(1);

    slowWorkDone.open();
    await pool.stop();
    expect((await broker.channel.checkQueue(queue)).messageCount).toBe(0);
  });

  it('delivers an express message published behind a backlog first', async () => {
    const queue = await freshQueue(
      scaling.queueArguments({ name: 'q', purpose: 'test', failure: { kind: 'none' }, maxPriority: MAX_PRIORITY, replicate: false }),
    );
    const order = (express: boolean) =>
      newEvent('order.created', {
        orderId: express ? 'express' : 'standard',
        source: 'order',
        express,
        payload: { user: 'u', items: [{ sku: 's', quantity: 1 }] },
      });
    for (const event of [...Array.from({ length: 10 }, () => order(false)), order(true)]) {
      const { content, options } = codec.encode(event);
      broker.channel.sendToQueue(queue, content, { ...options, priority: scaling.priorityFor(event) });
    }
    await broker.channel.waitForConfirms(); // the whole backlog is queued before anyone consumes

    const seen: string[] = [];
    const pool = await scaling.startWorkers(
      openChannel,
      workersRunning(queue, 1, async (_n, message) => void seen.push(message.properties.correlationId)),
      1,
    );
    await eventually(() => seen.length === 11, { what: 'all 11 delivered' });
    expect(seen[0], '🚨 the express order was published last but should be delivered first').toBe('express');
    await pool.stop();
  });

  it('scales down mid-load without losing or repeating a message', async () => {
    const queue = await freshQueue();
    const ids = await publishMany(queue, 150);
    const handled = new Map<string, number>();
    const total = () => [...handled.values()].reduce((a, b) => a + b, 0);
    const pool = await scaling.startWorkers(
      openChannel,
      workersRunning(queue, 5, async (_n, message) => {
        await new Promise((resolve) => setTimeout(resolve, 2 + Math.random() * 8)); // some work
        handled.set(message.properties.messageId, (handled.get(message.properties.messageId) ?? 0) + 1);
      }),
      3,
    );

    await eventually(() => total() >= 30, { what: 'the load under way' });
    await pool.scaleTo(1); // the two newest workers finish what they hold, then leave
    expect(pool.size).toBe(1);
    expect((await broker.channel.checkQueue(queue)).consumerCount).toBe(1);

    await eventually(() => total() >= 150, { what: 'all 150 handled' });
    await pool.stop();
    expect([...handled.keys()].sort()).toEqual([...ids].sort());
    expect(
      [...handled.entries()].filter(([, count]) => count !== 1),
      '🚨 these were handled more than once',
    ).toEqual([]);
    expect((await broker.channel.checkQueue(queue)).messageCount).toBe(0);
  });

  it('resizes one request at a time, and lets the newest workers go first', async () => {
    const queue = await freshQueue();
    const started: number[] = [];
    const stopped: number[] = [];
    const pool = await scaling.startWorkers(
      openChannel,
      async (worker) => {
        const n = started.push(started.length) - 1;
        const consumer = await acks.consume(worker, queue, async () => {}, { prefetch: 1, onFailure: drop });
        const stop = async () => {
          stopped.push(n);
          await consumer.stop();
        };
        return { ...consumer, stop };
      },
      1,
    );

    await Promise.all([pool.scaleTo(3), pool.scaleTo(3)]);
    expect(started, '🚨 two requests for 3 workers should start 2 more, not 4').toEqual([0, 1, 2]);
    expect(pool.size).toBe(3);
    expect((await broker.channel.checkQueue(queue)).consumerCount).toBe(3);

    await pool.scaleTo(1);
    expect(stopped.sort(), '🚨 scaling down should stop the newest workers').toEqual([1, 2]);
    expect((await broker.channel.checkQueue(queue)).consumerCount).toBe(1);
    await pool.stop();
    expect(stopped).toEqual([1, 2, 0]);
    expect((await broker.channel.checkQueue(queue)).consumerCount).toBe(0);
  });
});
