// 04.survives-restart: what a restart would lose shows before it, in the check's own vhost; only a
// state not judged yet is restarted for real, on a throwaway broker, and what came back is looked at.
import type { ChannelModel } from 'amqplib';
import type { OutgoingMessage } from '../../../shared/layers/01-publish-consume.ts';
import { EXCHANGES, QUEUES } from '../../../shared/topology/topology.ts';
import { declareTopology } from '../../../solutions/runtime/declare-topology.ts';
import { type Check, expectThat } from '../../check.ts';
import { ignoreErrorsTheCheckReports, waitFor } from '../../checks/support.ts';
import { connectTo, exchangeExists, listOf, type ManagementEntity, messagesIn, transientOnes } from './broker-state.ts';
import { type Context, paymentSucceeded, publishOrFail } from './publishing.ts';
import { type RestartState, restartOnce } from './support.ts';

const RESTART_WAITING = { [QUEUES.shipping]: 3, [QUEUES.inventory]: 3, [QUEUES.order]: 3, [QUEUES.audit]: 3, [QUEUES.unroutable]: 1 };

/** Declares the topology with the layer and publishes three payments and one refund nobody is bound to. */
async function declareAndPublish(context: Context, connection: ChannelModel): Promise<OutgoingMessage[]> {
  const channel = ignoreErrorsTheCheckReports(await connection.createConfirmChannel());
  await declareTopology(channel, context.topology, context.layers, 'classic');
  // Three payments (each routed to inventory, order and shipping, and copied to audit), and one
  // event nobody is bound to, which order.exchange's alternate exchange parks in unroutable.queue.
  const payments = ['restart-1', 'restart-2', 'restart-3'].map(paymentSucceeded);
  for (const message of payments)
    await publishOrFail(context, channel, EXCHANGES.order, 'payment.success', message, 'shipping.queue and others are bound to it');
  await publishOrFail(
    context,
    channel,
    EXCHANGES.order,
    'refund.issued',
    paymentSucceeded('restart-4'),
    "no queue is bound to it, so order.exchange's alternate exchange takes it",
  );
  return payments;
}

/** Per queue, the waiting messages as "payment index:deliveryMode", sorted; left unacked, so they stay. */
async function waitingMessages(context: Context, payments: OutgoingMessage[]): Promise<Record<string, string[]>> {
  const reader = await (await context.connect()).createChannel();
  const messages: Record<string, string[]> = {};
  for (const queue of Object.keys(RESTART_WAITING)) {
    const seen: string[] = [];
    for (let message = await reader.get(queue); message; message = await reader.get(queue)) {
      const index = payments.findIndex((payment) => payment.options.messageId === message.properties.messageId);
      seen.push(`${index}:${message.properties.deliveryMode ?? 1}`);
    }
    messages[queue] = seen.sort();
  }
  await reader.close(); // unacked: every message goes back to its queue
  return messages;
}

function expectEveryMessageWaitingPersistent(messages: Record<string, string[]>): void {
  const missing = Object.entries(RESTART_WAITING).filter(([queue, expected]) => messages[queue]?.length !== expected);
  const wanted = Object.entries(RESTART_WAITING)
    .map(([queue, n]) => `${n} in ${queue}`)
    .join(', ');
  expectThat(
    missing.length === 0,
    `before any restart, the messages publishConfirmed said were sent waiting in their queues (${wanted})`,
    () =>
      missing.map(([queue]) => `${messages[queue]?.length ?? 0} in ${queue}`).join(', ') +
      ': publishConfirmed resolved for messages the broker never had',
  );
  const transient = Object.entries(messages).filter(([, seen]) => seen.some((entry) => !entry.endsWith(':2')));
  expectThat(
    transient.length === 0,
    'every waiting message persistent (deliveryMode 2), so that a restart keeps it',
    () => `transient messages in ${transient.map(([queue]) => queue).join(', ')}: a restart drops them from their durable queues`,
    'publishConfirmed must publish every message persistent, whatever options it was given.',
  );
}

/** What decides a restart's outcome about an exchange or queue; `type` says the queue type, whether asked for or the default. */
function restartRelevant({ name, type, durable, auto_delete, exclusive, internal, arguments: args }: ManagementEntity) {
  const { 'x-queue-type': _queueType, ...rest } = args;
  return { name, type, durable, auto_delete, exclusive, internal, arguments: rest };
}

/**
 * The same publishes in the check's own vhost on the shared broker, read back through the
 * management API: what a restart would keep is visible before any restart. Fails at once with the
 * cause when something would be lost; otherwise returns the state a restart starts from.
 */
async function stateBeforeRestart(context: Context): Promise<RestartState> {
  const connection = await context.connect();
  const payments = await declareAndPublish(context, connection);
  await connection.close(); // the broker has handled every publish of a connection once it is closed

  const [exchanges, queues] = [await listOf(context, 'exchanges'), await listOf(context, 'queues')];
  const lost = [...transientOnes(context.topology.exchanges, exchanges), ...transientOnes(context.topology.queues, queues)];
  expectThat(
    lost.length === 0,
    'every exchange and queue durable, so that a restart keeps them',
    `a restart would delete ${lost.join(', ')}`,
  );
  const bindings = await context.vhost.api.request<Record<string, unknown>[]>(
    'GET',
    `/bindings/${encodeURIComponent(context.vhost.name)}?columns=source,destination,destination_type,routing_key,arguments`,
  );

  const messages = await waitingMessages(context, payments);
  expectEveryMessageWaitingPersistent(messages);
  return { exchanges: exchanges.map(restartRelevant), queues: queues.map(restartRelevant), bindings, messages };
}

/** Every exchange and queue is back; returns the ready messages per queue. */
async function expectTopologyBack(context: Context, after: ChannelModel): Promise<Map<string, number | undefined>> {
  const lostExchanges: string[] = [];
  for (const { name } of context.topology.exchanges) if (!(await exchangeExists(after, name))) lostExchanges.push(name);
  expectThat(
    lostExchanges.length === 0,
    'every exchange to exist after the restart',
    `these were gone: ${lostExchanges.join(', ')} (declared with durable: false?)`,
  );
  const counts = new Map<string, number | undefined>();
  for (const { name } of context.topology.queues) counts.set(name, await messagesIn(after, name));
  const lostQueues = [...counts].filter(([, count]) => count === undefined).map(([name]) => name);
  expectThat(
    lostQueues.length === 0,
    'every queue to exist after the restart',
    `these were gone: ${lostQueues.join(', ')} (a queue declared with durable: false is deleted when the broker restarts)`,
  );
  return counts;
}

async function expectMessagesBack(
  after: ChannelModel,
  counts: Map<string, number | undefined>,
  payments: OutgoingMessage[],
): Promise<void> {
  for (const [queue, expected] of Object.entries(RESTART_WAITING)) {
    const seen = counts.get(queue);
    const noneSurvived =
      seen === 0
        ? ': they did not survive. Persistent messages (deliveryMode 2) in a durable queue do: were they published transient?'
        : '';
    expectThat(
      seen === expected,
      `the ${expected} message(s) published to ${queue} before the restart to be waiting there after it`,
      `${seen} in ${queue}${noneSurvived}`,
    );
  }
  const readBack = await after.createChannel();
  for (const published of payments) {
    const message = await readBack.get(QUEUES.shipping, { noAck: true });
    const id = published.options.messageId;
    expectThat(message && message.properties.messageId === id, `message ${id} readable from shipping.queue after the restart`, () =>
      message ? `message ${message.properties.messageId}` : 'an empty queue',
    );
    expectThat(
      message.properties.deliveryMode === 2,
      `message ${id} to be persistent (deliveryMode 2)`,
      `deliveryMode ${message.properties.deliveryMode}`,
    );
  }
}

/** The bindings came back too: fresh messages still find their queues. */
async function expectBindingsBack(after: ChannelModel): Promise<void> {
  const probe = await after.createConfirmChannel();
  probe.publish(EXCHANGES.order, 'payment.success', paymentSucceeded('restart-5').content, { persistent: true });
  probe.publish(EXCHANGES.order, 'refund.issued', paymentSucceeded('restart-6').content, { persistent: true });
  await probe.waitForConfirms();
  for (const [queue, expected] of [
    [QUEUES.shipping, 1],
    [QUEUES.audit, 4],
    [QUEUES.unroutable, 2],
  ] as const) {
    const seen = await messagesIn(after, queue);
    expectThat(
      seen === expected,
      `a message published after the restart to reach ${queue} through its bindings (${expected} there now)`,
      `${seen} in ${queue}: a binding was lost`,
    );
  }
}

/** The real thing: a throwaway node, the same publishes, a restart, and what came back. */
async function restartAndLook(context: Context): Promise<void> {
  const broker = await context.brokerControl.acquireRestartable({ announce: context.announce });
  context.onCleanup(() => broker.release());
  const before = await connectTo(context, broker.url);
  const payments = await declareAndPublish(context, before);
  await before.close();

  context.announce(`restarting ${broker.description}`);
  await broker.restart();
  const after = await waitFor(
    () => connectTo(context, broker.url).catch(() => undefined),
    'the broker to accept connections again after the restart',
    () => 'it refused every connection',
    15_000,
  );
  const counts = await expectTopologyBack(context, after);
  await expectMessagesBack(after, counts, payments);
  await expectBindingsBack(after);
}

export const survivesRestart: Check<'durability'> = {
  id: '04.survives-restart',
  name: 'the topology and the waiting messages survive a broker restart',
  hint: 'Durable exchanges and queues come back after a restart; inside them, only persistent messages do (README § What a restart keeps).',
  after: ['04.durable-topology', '04.persistent'],
  timeoutMs: 60_000,
  async run(context) {
    const { layer, topology } = context;
    // Ask the layer first: one not written yet fails here, before anything is started for nothing.
    for (const spec of topology.exchanges) layer.exchangeOptions(spec);
    for (const spec of topology.queues) layer.queueOptions(spec, 'classic');
    // What a restart would lose shows before it: fail with the cause, and restart only once per
    // state (another layer that leaves the same exchanges, queues, bindings and messages behind
    // gets the verdict of the real restart already made from it in this process).
    const state = await stateBeforeRestart(context);
    await restartOnce(state, () => restartAndLook(context));
  },
};
