// Milestone 1 demo: your codec sends one order.created through a real queue and reads it back.
import { newEvent } from '../../../shared/messages/events.ts';
import type { DemoContext } from '../../demo-context.ts';

export async function runDemo({ layers, connect, log }: DemoContext): Promise<void> {
  const channel = await (await connect()).createConfirmChannel();
  const { queue } = await channel.assertQueue('demo.hello', { exclusive: true });
  log.info(`declared queue ${queue}`);

  const event = newEvent('order.created', {
    orderId: '123',
    source: 'order',
    payload: { user: 'gayal', items: [{ sku: 'item1', quantity: 1 }] },
  });
  const { content, options } = layers.codec.encode(event);
  channel.sendToQueue(queue, content, options);
  await channel.waitForConfirms();
  log.info(`sent ${event.type} for order ${event.orderId} (${content.length} bytes, message id ${options.messageId})`);

  await new Promise<void>((resolve, reject) => {
    void channel.consume(queue, (message) => {
      if (!message) return;
      try {
        const received = layers.codec.decode(message);
        log.info(`received ${received.type} for order ${received.orderId} from ${received.source}: ${JSON.stringify(received.payload)}`);
        channel.ack(message);
        resolve();
      } catch (error) {
        channel.nack(message, false, false);
        reject(error);
      }
    });
  });
}
