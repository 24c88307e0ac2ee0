// Milestone 9 demo: your pool runs three workers on one queue of 30 orders, then scales down to one
// in the middle; at the end an express order overtakes a backlog in a priority queue.
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import { newEvent } from '../../../shared/messages/events.ts';
import { buildTopology, QUEUES, queueSpec } from '../../../shared/topology/topology.ts';
import type { DemoContext } from '../../demo-context.ts';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runDemo({ layers, connect, log }: DemoContext): Promise<void> {
  const connection = await connect();
  const channel = await connection.createConfirmChannel();
  const { queue } = await channel.assertQueue('demo.work.queue', { exclusive: true });
  const openChannel = () => connection.createConfirmChannel();

  const perWorker = new Map<number, string[]>();
  let handled = 0;
  let started = 0;
  const startConsumer = (worker: ConfirmChannel) => {
    const n = ++started;
    return layers.acks.consume(
      worker,
      queue,
      async (message: ConsumeMessage) => {
        const order = message.content.toString();
        await pause(40 + Math.random() * 60); // reserving stock takes a moment
        perWorker.set(n, [...(perWorker.get(n) ?? []), order]);
        handled++;
        log.info(`worker ${n} handled ${order}`);
      },
      { prefetch: 1, onFailure: async (ch, message) => ch.nack(message, false, false) },
    );
  };

  const pool = await layers.scaling.startWorkers(openChannel, startConsumer, 3);
  log.info(`started ${pool.size} workers on ${queue}, each on its own channel with prefetch 1`);
  for (let i = 1; i <= 30; i++) channel.sendToQueue(queue, Buffer.from(`order-${i}`));
  await channel.waitForConfirms();
  log.info('published 30 orders');

  while (handled < 12) await pause(10);
  log.info(`${handled} handled: scaling down to 1 worker (the leaving ones finish what they hold first)`);
  await pool.scaleTo(1);
  log.info(`pool.size is now ${pool.size}; ${(await channel.checkQueue(queue)).consumerCount} consumer on the queue`);
  while (handled < 30) await pause(10);
  for (const [n, orders] of [...perWorker].sort(([a], [b]) => a - b)) log.info(`worker ${n} took ${orders.length}: ${orders.join(', ')}`);
  await pool.stop();

  // Priority: a backlog of standard orders, then one express order, then a consumer.
  const spec = queueSpec(buildTopology(), QUEUES.inventory);
  const args = layers.scaling.queueArguments(spec);
  const { queue: priorityQueue } = await channel.assertQueue('demo.priority.queue', { exclusive: true, arguments: args });
  log.info(`declared ${priorityQueue} with ${JSON.stringify(args)}`);
  for (const [i, express] of [false, false, false, false, false, true].entries()) {
    const event = newEvent('order.created', {
      orderId: express ? 'EXPRESS' : `standard-${i + 1}`,
      source: 'order',
      express,
      payload: { user: 'ada', items: [{ sku: 'tea', quantity: 1 }] },
    });
    const { content, options } = layers.codec.encode(event);
    const priority = layers.scaling.priorityFor(event);
    channel.sendToQueue(priorityQueue, content, { ...options, priority });
    log.info(`queued ${event.orderId} with priority ${priority ?? 'none'}`);
  }
  await channel.waitForConfirms();
  const seen: string[] = [];
  const reader = await connection.createChannel();
  await reader.prefetch(1);
  await reader.consume(priorityQueue, (message) => {
    if (!message) return;
    seen.push(String(message.properties.correlationId));
    reader.ack(message);
  });
  while (seen.length < 6) await pause(10);
  log.info(`delivered in this order: ${seen.join(', ')}`);
}
