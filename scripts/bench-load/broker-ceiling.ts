// The broker's own ceiling for the kind of traffic the saga makes, measured in the same run: one
// amqplib client publishing persistent messages of an event's size to a durable queue, with
// publisher confirms, and consuming them with manual acks (one ack per message, prefetch 100).
// Messages per second end to end (acked by the consumer) is what the saga's deliveries compete for.
import amqp from 'amqplib';
import type { UsageMeter } from './process-usage.ts';

export interface CeilingResult {
  messagesPerSecond: number;
  messages: number;
  seconds: number;
  messageBytes: number;
  /** The broker's CPU over the measured window, in cores (undefined when its process was not found). */
  brokerCores?: number;
}

const QUEUE = 'bench.ceiling.queue';
/** Unconfirmed publishes in flight at once. */
const WINDOW = 500;

export async function measureBrokerCeiling(
  brokerUrl: string,
  seconds: number,
  messageBytes: number,
  brokerUsage?: UsageMeter,
): Promise<CeilingResult> {
  const connection = await amqp.connect(brokerUrl);
  try {
    const publisher = await connection.createConfirmChannel();
    const consumer = await connection.createChannel();
    await publisher.assertQueue(QUEUE, { durable: true, arguments: { 'x-queue-type': 'classic' } });
    await publisher.purgeQueue(QUEUE);
    await consumer.prefetch(100);
    const body = Buffer.alloc(messageBytes, 'x');

    let consumed = 0;
    let measuring = false;
    let measuredFrom = 0;
    let consumedAtStart = 0;
    await consumer.consume(QUEUE, (message) => {
      if (!message) return;
      consumer.ack(message);
      consumed++;
    });

    // A short warm-up, then the measured window.
    const warmUpMs = 1000;
    const startedAt = performance.now();
    let outstanding = 0;
    let stop = false;
    let wake: (() => void) | undefined;
    const publishLoop = (async () => {
      while (!stop) {
        if (!measuring && performance.now() - startedAt > warmUpMs) {
          measuring = true;
          measuredFrom = performance.now();
          consumedAtStart = consumed;
          brokerUsage?.start();
        }
        if (outstanding >= WINDOW) {
          await new Promise<void>((resolve) => (wake = resolve));
          continue;
        }
        outstanding++;
        const writable = publisher.sendToQueue(QUEUE, body, { persistent: true, contentType: 'application/json' }, () => {
          outstanding--;
          wake?.();
          wake = undefined;
        });
        if (!writable) await new Promise((resolve) => publisher.once('drain', resolve));
        else if (outstanding % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, warmUpMs + seconds * 1000));
    const measuredSeconds = (performance.now() - measuredFrom) / 1000;
    const messages = consumed - consumedAtStart;
    const brokerCores = brokerUsage?.stop()[0]?.cpuCores;
    stop = true;
    wake?.();
    await publishLoop;
    await publisher.waitForConfirms();
    await publisher.deleteQueue(QUEUE);
    return { messagesPerSecond: messages / measuredSeconds, messages, seconds: measuredSeconds, messageBytes, brokerCores };
  } finally {
    await connection.close().catch(() => {});
  }
}
