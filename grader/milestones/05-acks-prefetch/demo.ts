// Milestone 5 demo: your consumer, with prefetch 2, works through six orders with a slow handler;
// one of them fails. Then the same message arrives twice and processOnce applies it once.
import type { ConsumerHandle, ProcessedMessages } from '../../../shared/layers/05-acks-prefetch.ts';
import type { DemoContext } from '../../demo-context.ts';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The processed-message record in memory; the services keep it in SQLite, next to their state. */
function memoryStore(): ProcessedMessages {
  let ids = new Set<string>();
  return {
    transaction(work) {
      const before = new Set(ids);
      try {
        return work();
      } catch (error) {
        ids = before; // roll back
        throw error;
      }
    },
    has: (id) => ids.has(id),
    record: (id) => void ids.add(id),
  };
}

export async function runDemo({ layers, connect, log }: DemoContext): Promise<void> {
  const connection = await connect();
  const admin = await connection.createConfirmChannel();
  const { queue } = await admin.assertQueue('demo.inventory.queue', { exclusive: true });
  const orders = ['order-1', 'order-2', 'order-3', 'order-4', 'order-5', 'order-6'];
  for (const order of orders) admin.sendToQueue(queue, Buffer.from(order), { messageId: `${order}:order.created`, persistent: true });
  await admin.waitForConfirms();
  log.info(`published ${orders.length} orders to ${queue}`);

  const worker = await connection.createConfirmChannel();
  let done = 0;
  let consumer: ConsumerHandle | undefined = undefined;
  consumer = await layers.acks.consume(
    worker,
    queue,
    async (message) => {
      const order = message.content.toString();
      const { messageCount } = await admin.checkQueue(queue);
      log.info(`  start ${order}   (in flight: ${consumer?.inFlight()}, still waiting in the queue: ${messageCount})`);
      await pause(300); // reserving stock takes a moment
      done++;
      if (order === 'order-4') throw new Error('item1 is out of stock in the warehouse database');
      log.info(`  done  ${order}   → acked`);
    },
    {
      prefetch: 2,
      onFailure: async (channel, message, error) => {
        log.info(
          `  fail  ${message.content.toString()}   → onFailure: ${error instanceof Error ? error.message : String(error)} (dropped here; milestone 6 retries it)`,
        );
        channel.nack(message, false, false); // requeue false: amqplib's nack requeues by default
      },
    },
  );
  log.info(`consuming with prefetch 2: the broker hands over at most 2 unacked messages at a time`);
  while (done < orders.length) await pause(20);
  await consumer.stop();
  log.info(`stopped; ${(await admin.checkQueue(queue)).messageCount} message(s) left in ${queue}`);

  // A redelivery: the same message id arrives twice (say, the consumer crashed after its work, before its ack).
  const store = memoryStore();
  let stock = 10;
  for (const attempt of ['first delivery', 'redelivery']) {
    const applied = layers.acks.processOnce(store, 'order-7:order.created', () => void (stock -= 2));
    log.info(`order-7, ${attempt}: ${applied ? 'applied' : 'skipped, already processed'} (stock of item1: ${stock})`);
  }
}
