// Milestone 6 demo: two payment.failed events reach inventory.queue. Handling the first fails twice,
// then works; the second always fails and is parked. Each try shows what x-death says and how long
// the message waited in inventory.queue.retry; a parked order is announced once its copy is seen in
// dead-letter.queue.
import type { ConsumeMessage } from 'amqplib';
import { PARK_HEADERS } from '../../../shared/layers/06-dead-letters.ts';
import { newEvent } from '../../../shared/messages/events.ts';
import { buildTopology, DEFAULT_TOPOLOGY_SETTINGS, EXCHANGES, QUEUES, queueSpec } from '../../../shared/topology/topology.ts';
import { declareTopology } from '../../../solutions/runtime/declare-topology.ts';
import type { DemoContext } from '../../demo-context.ts';

const settings = { ...DEFAULT_TOPOLOGY_SETTINGS, retryDelayMs: 1000, maxAttempts: 3 };

export async function runDemo({ layers, connect, log }: DemoContext): Promise<void> {
  const connection = await connect();
  const channel = await connection.createConfirmChannel();
  const topology = buildTopology(settings);
  await declareTopology(channel, topology, layers, 'classic');
  const inventory = queueSpec(topology, QUEUES.inventory);
  log.info(
    `declared the topology: ${QUEUES.inventory} dead-letters to ${EXCHANGES.retry}, its retry queue waits ${settings.retryDelayMs} ms; park after ${settings.maxAttempts} attempts`,
  );

  const flaky = newEvent('payment.failed', { orderId: 'A-flaky', source: 'payment', payload: { reason: 'card declined', amount: 700 } });
  const poison = newEvent('payment.failed', { orderId: 'B-poison', source: 'payment', payload: { reason: 'card declined', amount: 900 } });
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => (done = resolve));
  let flakyOk = false;
  let poisonParked = false;
  const finishIfDone = () => flakyOk && poisonParked && done();

  // What reaches dead-letter.queue, by message id: "parked" is said only once the copy is seen there.
  const inDeadLetters = new Map<string, ConsumeMessage>();
  const arrivals = new Map<string, (message: ConsumeMessage) => void>();
  const parkedChannel = await connection.createChannel();
  await parkedChannel.consume(
    QUEUES.deadLetter,
    (message) => {
      if (!message) return;
      const id = String(message.properties.messageId);
      inDeadLetters.set(id, message);
      arrivals.get(id)?.(message);
    },
    { noAck: true },
  );
  const arrivalOf = (id: string, withinMs: number) =>
    new Promise<ConsumeMessage | undefined>((resolve) => {
      const already = inDeadLetters.get(id);
      if (already) return resolve(already);
      const timer = setTimeout(() => resolve(undefined), withinMs);
      timer.unref();
      arrivals.set(id, (message) => {
        clearTimeout(timer);
        resolve(message);
      });
    });

  const worker = await connection.createConfirmChannel();
  await worker.prefetch(1);
  const lastTry = new Map<string, number>();
  const tries = new Map<string, number>();
  await worker.consume(QUEUES.inventory, (message: ConsumeMessage | null) => {
    if (!message) return;
    const id = String(message.properties.messageId);
    const order = String(message.properties.correlationId);
    const attempt = (tries.get(id) ?? 0) + 1;
    tries.set(id, attempt);
    const previous = lastTry.get(id);
    lastTry.set(id, Date.now());
    const waited = previous === undefined ? 'first delivery' : `${Date.now() - previous} ms after the last try`;
    const counted = layers.deadLetters.attemptsSoFar(message, inventory);
    const line = `order ${order}, try ${attempt} (${waited}; attemptsSoFar from x-death = ${counted})`;

    if (id === flaky.messageId && attempt > 2) {
      log.info(`${line}: works this time, acked`);
      worker.ack(message);
      flakyOk = true;
      finishIfDone();
      return;
    }
    const error = new Error(id === flaky.messageId ? 'stock database busy' : 'cannot read this order');
    layers.deadLetters.handleFailure(worker, message, error, inventory).then(
      async (outcome) => {
        if (outcome !== 'parked') {
          log.info(`${line}: failed ("${error.message}") → ${outcome}`);
          return;
        }
        const copy = await arrivalOf(id, 3000);
        if (!copy) {
          log.warn(`${line}: failed ("${error.message}") → handleFailure said parked, but nothing reached ${QUEUES.deadLetter} within 3 s`);
          return;
        }
        const headers = copy.properties.headers ?? {};
        log.info(
          `${line}: failed ("${error.message}") → parked: now in ${QUEUES.deadLetter} with ${PARK_HEADERS.reason}="${headers[PARK_HEADERS.reason]}", ` +
            `${PARK_HEADERS.queue}=${headers[PARK_HEADERS.queue]}, ${PARK_HEADERS.attempts}=${headers[PARK_HEADERS.attempts]}`,
        );
        poisonParked ||= id === poison.messageId;
        finishIfDone();
      },
      (failure: unknown) => log.error(`${line}: handleFailure threw`, failure),
    );
  });

  log.info('publishing payment.failed for orders A-flaky (fails twice) and B-poison (always fails)');
  for (const event of [flaky, poison]) {
    const { content, options } = layers.codec.encode(event);
    channel.publish(EXCHANGES.order, event.type, content, { ...options, persistent: true });
  }
  await channel.waitForConfirms();

  const timeout = new Promise<void>((_, reject) =>
    setTimeout(() => reject(new Error('the demo did not finish within 10 s')), 10_000).unref(),
  );
  await Promise.race([finished, timeout]);
  log.info(`done: A-flaky succeeded on its third try, B-poison is in ${QUEUES.deadLetter} with its reason`);
}
