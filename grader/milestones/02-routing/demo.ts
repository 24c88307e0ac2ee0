// Milestone 2 demo: your routing declares the event bus; one event of each type is published with
// your routing key, and each service queue shows what it received.
import type { ConfirmChannel } from 'amqplib';
import { type DomainEvent, EVENT_TYPES, type EventType, newEvent } from '../../../shared/messages/events.ts';
import { buildTopology, EXCHANGES, QUEUES, SMS_HEADERS, SUBSCRIPTIONS } from '../../../shared/topology/topology.ts';
import { declareTopology } from '../../../solutions/runtime/declare-topology.ts';
import type { DemoContext } from '../../demo-context.ts';

// Routing ignores the payload; the demo sends a small body with the type and a message id.
const eventOf = (type: EventType) => newEvent(type, { orderId: 'demo-1', source: 'order', payload: {} as never }) as DomainEvent;

export async function runDemo({ layers, connect, log }: DemoContext): Promise<void> {
  const channel = await (await connect()).createConfirmChannel();
  // Queues first, then your exchanges and bindings (layer 2), then the reference fanouts (layer 3).
  await declareTopology(channel, buildTopology(), layers, 'classic');
  log.info(`declared ${EXCHANGES.order} and its bindings with your declareRoutes`);

  for (const type of EVENT_TYPES) {
    const key = layers.routing.routingKeyFor(eventOf(type));
    channel.publish(EXCHANGES.order, key, Buffer.from(JSON.stringify({ type })), { type, contentType: 'application/json' });
  }
  channel.publish(EXCHANGES.order, 'refund.issued', Buffer.from('{}'), { type: 'refund.issued' });
  await channel.waitForConfirms();
  log.info(`published ${EVENT_TYPES.length} events, one of each type, and one refund.issued nobody subscribes to`);

  for (const service of Object.keys(SUBSCRIPTIONS) as (keyof typeof SUBSCRIPTIONS)[]) {
    const queue = QUEUES[service];
    const got: string[] = [];
    for (let m = await channel.get(queue, { noAck: true }); m; m = await channel.get(queue, { noAck: true }))
      got.push(String(m.properties.type));
    const missing = SUBSCRIPTIONS[service].filter((type) => !got.includes(type));
    const extra = got.filter((type) => !(SUBSCRIPTIONS[service] as string[]).includes(type));
    const verdict =
      missing.length === 0 && extra.length === 0
        ? 'as subscribed'
        : `missing: ${missing.join(', ') || '-'}; not wanted: ${extra.join(', ') || '-'}`;
    log.info(`${queue.padEnd(16)} got ${got.join(', ') || 'nothing'} (${verdict})`);
  }
  const stray: string[] = [];
  for (let m = await channel.get(QUEUES.unroutable, { noAck: true }); m; m = await channel.get(QUEUES.unroutable, { noAck: true }))
    stray.push(String(m.properties.type));
  log.info(`${QUEUES.unroutable} got ${stray.join(', ') || 'nothing (is the alternate exchange missing?)'}`);

  // The headers exchange, on a channel of its own: publishing to an exchange that does not exist closes it.
  const sms = await (await connect()).createConfirmChannel();
  sms.on('error', () => {});
  try {
    await showHeadersRouting(sms, log);
  } catch (error) {
    log.info(`${EXCHANGES.notificationSms}: could not show it (${error instanceof Error ? error.message : String(error)})`);
  }
}

/** The same key every time, and only the headers differ: which probes reach the SMS queue. */
async function showHeadersRouting(channel: ConfirmChannel, log: DemoContext['log']): Promise<void> {
  await channel.checkExchange(EXCHANGES.notificationSms);
  await channel.purgeQueue(QUEUES.notificationSms);
  const { express, textWorthy } = SMS_HEADERS;
  const probes: Array<[string, Record<string, unknown>]> = [
    ['express order shipped', { [express]: true, [textWorthy]: true }],
    ['express order paid', { [express]: true, [textWorthy]: false }],
    ['standard order shipped', { [express]: false, [textWorthy]: true }],
    ['headers the string "true"', { [express]: 'true', [textWorthy]: 'true' }],
  ];
  for (const [what, headers] of probes)
    channel.publish(EXCHANGES.notificationSms, 'order.shipped', Buffer.from('{}'), { type: what, headers });
  await channel.waitForConfirms();
  const texted: string[] = [];
  for (
    let m = await channel.get(QUEUES.notificationSms, { noAck: true });
    m;
    m = await channel.get(QUEUES.notificationSms, { noAck: true })
  )
    texted.push(String(m.properties.type));
  log.info(
    `${EXCHANGES.notificationSms}: of ${probes.map(([what]) => what).join(', ')}, ${QUEUES.notificationSms} got ${texted.join(', ') || 'nothing'} (only the first is worth a text)`,
  );
}
