// Milestone 4 demo: your options declare the order system's topology, then publishConfirmed meets
// the three answers a broker can give: "I have it", "I could not route it", "I refuse it".
import type { ConfirmChannel } from 'amqplib';
import { PublishRejectedError } from '../../../shared/layers/04-durability.ts';
import { describeError } from '../../../shared/log.ts';
import { newEvent } from '../../../shared/messages/events.ts';
import { buildTopology, EXCHANGES, exchangeSpec, QUEUES, queueSpec } from '../../../shared/topology/topology.ts';
import { declareTopology } from '../../../solutions/runtime/declare-topology.ts';
import type { DemoContext } from '../../demo-context.ts';

export async function runDemo({ layers, connect, log }: DemoContext): Promise<void> {
  const { durability } = layers;
  const topology = buildTopology();
  const channel = await (await connect()).createConfirmChannel();
  channel.on('error', () => {});

  log.info(`order.exchange options: ${JSON.stringify(durability.exchangeOptions(exchangeSpec(topology, EXCHANGES.order)))}`);
  log.info(`inventory.queue options: ${JSON.stringify(durability.queueOptions(queueSpec(topology, QUEUES.inventory), 'classic'))}`);
  log.info(
    `audit.queue options with QUEUE_TYPE=quorum: ${JSON.stringify(durability.queueOptions(queueSpec(topology, QUEUES.audit), 'quorum'))}`,
  );
  await declareTopology(channel, topology, layers, 'classic');
  log.info(`declared ${topology.exchanges.length} exchanges and ${topology.queues.length} queues with your options`);

  const payment = newEvent('payment.success', { orderId: '123', source: 'payment', payload: { paymentId: 'pay-123', amount: 4200 } });
  const message = layers.codec.encode(payment);
  const attempt = async (what: string, publish: (channel: ConfirmChannel) => Promise<void>) => {
    const started = Date.now();
    try {
      await publish(channel);
      log.info(`✓ ${what}: confirmed by the broker after ${Date.now() - started} ms`);
    } catch (error) {
      const kind = error instanceof PublishRejectedError ? 'PublishRejectedError' : error instanceof Error ? error.name : 'error';
      log.info(`✗ ${what}: rejected with ${kind}: ${describeError(error)}`);
    }
  };

  await attempt('payment.success for order 123 on order.exchange', (ch) =>
    durability.publishConfirmed(ch, EXCHANGES.order, 'payment.success', message),
  );
  const shipped = await channel.get(QUEUES.shipping, { noAck: true });
  if (shipped)
    log.info(
      `  shipping.queue has it: message ${shipped.properties.messageId}, deliveryMode ${shipped.properties.deliveryMode} (2 = persistent)`,
    );

  await attempt('refund.issued (no queue is bound to it) on order.exchange', (ch) =>
    durability.publishConfirmed(ch, EXCHANGES.order, 'refund.issued', message),
  );
  log.info(`  unroutable.queue now holds ${(await channel.checkQueue(QUEUES.unroutable)).messageCount}: the alternate exchange caught it`);

  await attempt('payment.success to retry.exchange, which has no binding for it and no alternate exchange', (ch) =>
    durability.publishConfirmed(ch, EXCHANGES.retry, 'payment.success', message),
  );

  const { queue } = await channel.assertQueue('demo.bounded.queue', {
    exclusive: true,
    arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' },
  });
  log.info(`declared ${queue} with room for 1 message (x-overflow reject-publish)`);
  await attempt(`the first message to ${queue}`, (ch) => durability.publishConfirmed(ch, '', queue, message));
  await attempt(`the second message to ${queue} (full)`, (ch) => durability.publishConfirmed(ch, '', queue, message));

  log.info('three publishes in flight on one channel at once, each settled by its own answer:');
  const inFlight = [
    ['payment.success on order.exchange', EXCHANGES.order, 'payment.success'],
    ['payment.success to retry.exchange (no binding)', EXCHANGES.retry, 'payment.success'],
    [`a third message to ${queue} (still full)`, '', queue],
  ] as const;
  // Each a message of its own: what comes back from the broker is told apart by messageId.
  const fresh = () =>
    layers.codec.encode(newEvent('payment.success', { orderId: '124', source: 'payment', payload: { paymentId: 'pay-124', amount: 990 } }));
  await Promise.all(
    inFlight.map(([what, exchange, key]) => attempt(`  ${what}`, (ch) => durability.publishConfirmed(ch, exchange, key, fresh()))),
  );

  const doomed = await (await connect()).createConfirmChannel();
  doomed.on('error', () => {});
  await attempt('payment.success to order.exchnage, misspelt (the broker closes the channel)', () =>
    durability.publishConfirmed(doomed, 'order.exchnage', 'payment.success', message),
  );
  log.info('every exchange and queue above is durable and every message persistent: `npm run grade -- 4` restarts a broker to prove it');
}
