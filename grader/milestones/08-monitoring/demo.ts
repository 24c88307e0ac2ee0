// Milestone 8 demo: two queues in a known state, then your layer reads them back through the
// management API once the broker has sampled them (every 5 s), and prints a table.
import type { QueueStats } from '../../../shared/layers/08-monitoring.ts';
import type { DemoContext } from '../../demo-context.ts';

const row = (cells: (string | number)[]) =>
  cells.map((cell, i) => (i === 0 ? String(cell).padEnd(18) : String(cell).padStart(9))).join(' ');

export async function runDemo({ layers, connect, management, log }: DemoContext): Promise<void> {
  const connection = await connect();
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue('demo.inventory', { durable: false, autoDelete: false });
  await channel.assertQueue('demo.payment', { durable: false, autoDelete: false });
  for (let i = 0; i < 12; i++) channel.sendToQueue('demo.inventory', Buffer.from(`reserve ${i}`));
  for (let i = 0; i < 3; i++) channel.sendToQueue('demo.payment', Buffer.from(`charge ${i}`));
  await channel.waitForConfirms();
  log.info('demo.inventory: 12 messages published; a slow worker takes 4 and does not ack them yet');
  log.info('demo.payment:   3 messages published; nobody consumes them');

  const worker = await connection.createChannel();
  await worker.prefetch(4);
  await worker.consume('demo.inventory', () => {}, { noAck: false }); // holds 4, never acks

  log.info(`your queueStats right now: ${JSON.stringify(await layers.monitoring.queueStats(management, 'demo.inventory'))}`);
  log.info('waiting for the broker to sample its statistics (every 5 s)...');
  const deadline = Date.now() + 12_000;
  let stats: QueueStats | undefined;
  while (Date.now() < deadline) {
    stats = await layers.monitoring.queueStats(management, 'demo.inventory');
    if (stats.ready === 8 && stats.unacked === 4 && stats.consumers === 1) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const sampled = stats?.ready === 8 && stats.unacked === 4 && stats.consumers === 1;
  log.info(
    sampled
      ? 'sampled: your layer sees 8 ready, 4 unacked, 1 consumer'
      : `expected 8 ready, 4 unacked, 1 consumer; after 12 s your layer says ${JSON.stringify(stats)}`,
  );

  const table = await layers.monitoring.listQueueStats(management);
  log.info(row(['queue', 'ready', 'unacked', 'consumers', 'publish/s', 'deliver/s']));
  for (const q of table) log.info(row([q.name, q.ready, q.unacked, q.consumers, q.publishRate.toFixed(1), q.deliverRate.toFixed(1)]));
}
