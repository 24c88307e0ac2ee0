// Competing consumers on an I/O-bound handler: the reference acks (layer 5) and scaling (layer 9)
// layers, `workers` channels with `prefetch` each, and a handler that waits like a call to a payment
// gateway. With the wait dominating, throughput should grow with workers × prefetch.
import amqp from 'amqplib';
import { composeLayers } from '../../solutions/layers/compose.ts';

export interface ScalingResult {
  workers: number;
  prefetch: number;
  handlerMs: number;
  messages: number;
  messagesPerSecond: number;
  /** What workers × prefetch / handler time allows. */
  idealPerSecond: number;
}

const QUEUE = 'bench.scaling.queue';

export async function measureWorkerScaling(
  brokerUrl: string,
  workers: number,
  prefetch: number,
  handlerMs: number,
  seconds: number,
): Promise<ScalingResult> {
  const layers = composeLayers();
  const idealPerSecond = (workers * prefetch * 1000) / handlerMs;
  const messages = Math.round(idealPerSecond * seconds);
  const connection = await amqp.connect(brokerUrl);
  try {
    const setup = await connection.createConfirmChannel();
    await setup.assertQueue(QUEUE, { durable: true, arguments: { 'x-queue-type': 'classic' } });
    await setup.purgeQueue(QUEUE);
    for (let i = 0; i < messages; i++) setup.sendToQueue(QUEUE, Buffer.from(`{"n":${i}}`), { persistent: true });
    await setup.waitForConfirms();

    let consumed = 0;
    let allDone!: () => void;
    const finished = new Promise<void>((resolve) => (allDone = resolve));
    const startedAt = performance.now();
    const pool = await layers.scaling.startWorkers(
      () => connection.createConfirmChannel(),
      (channel) =>
        layers.acks.consume(
          channel,
          QUEUE,
          async () => {
            await new Promise((resolve) => setTimeout(resolve, handlerMs));
            if (++consumed === messages) allDone();
          },
          { prefetch, onFailure: async (failed, message) => failed.nack(message, false, true) },
        ),
      workers,
    );
    await finished;
    const elapsed = (performance.now() - startedAt) / 1000;
    await pool.stop();
    await setup.deleteQueue(QUEUE);
    return { workers, prefetch, handlerMs, messages, messagesPerSecond: messages / elapsed, idealPerSecond };
  } finally {
    await connection.close().catch(() => {});
  }
}
