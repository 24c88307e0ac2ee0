// Milestone 3 demo: your fanout layer declares the broadcast exchanges; a few events are published
// once each (order events with the headers of an express order), and every queue shows the copies it got.
import type { EventType } from '../../../shared/messages/events.ts';
import { buildTopology, EXCHANGES, QUEUES, routingHeadersFor } from '../../../shared/topology/topology.ts';
import { declareTopology } from '../../../solutions/runtime/declare-topology.ts';
import type { DemoContext } from '../../demo-context.ts';

const WATCHED = [
  QUEUES.notificationEmail,
  QUEUES.notificationSms,
  QUEUES.audit,
  QUEUES.inventory,
  QUEUES.order,
  QUEUES.shipping,
  QUEUES.unroutable,
  QUEUES.deadLetter,
];

export async function runDemo({ layers, connect, log }: DemoContext): Promise<void> {
  const channel = await (await connect()).createConfirmChannel();
  await declareTopology(channel, buildTopology(), layers, 'classic');
  log.info('declared the topology: the reference routing (layer 2), then your declareFanout');

  const publishOnce = async (exchange: string, key: string) => {
    // As the order service publishes an express order's events: the SMS channel's headers exchange reads them.
    const headers = routingHeadersFor({ type: key as EventType, express: true });
    channel.publish(exchange, key, Buffer.from('{}'), { type: key, messageId: `${exchange} ${key}`, headers });
    await channel.waitForConfirms();
    const got: string[] = [];
    for (const queue of WATCHED) {
      for (let m = await channel.get(queue, { noAck: true }); m; m = await channel.get(queue, { noAck: true })) got.push(queue);
    }
    log.info(
      `${key.padEnd(16)} published once to ${exchange}: ${got.length} ${got.length === 1 ? 'copy' : 'copies'}, in ${got.join(', ') || 'no queue'}`,
    );
  };

  await publishOnce(EXCHANGES.order, 'order.shipped'); // audit, email and SMS (worth a text)
  await publishOnce(EXCHANGES.order, 'order.paid'); // audit and email: a routine step, no text
  await publishOnce(EXCHANGES.order, 'payment.success'); // three services and audit; no notification
  await publishOnce(EXCHANGES.order, 'refund.issued'); // nobody's: the alternate exchange
  await publishOnce(EXCHANGES.deadLetter, 'inventory.queue'); // parking: the key does not matter
}
