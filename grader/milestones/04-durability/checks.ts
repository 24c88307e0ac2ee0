// Milestone 4: durability and publisher confirms. One check restarts a throwaway broker for real and
// looks at what came back; the others watch publishConfirmed settle (or not) against the live broker,
// many publishes in flight on one channel at a time, as the outbox relay publishes.
import amqp, { type ChannelModel } from 'amqplib';
import { ExerciseNotWrittenError } from '../../../shared/workshop/exercise.ts';
import type { OutgoingMessage } from '../../../shared/layers/01-publish-consume.ts';
import { PublishRejectedError } from '../../../shared/layers/04-durability.ts';
import { describeError } from '../../../shared/log.ts';
import { newEvent } from '../../../shared/messages/events.ts';
import { buildTopology, EXCHANGES, QUEUES, queueSpec } from '../../../shared/topology/topology.ts';
import { declareTopology } from '../../../solutions/runtime/declare-topology.ts';
import { CannotJudgeError, type CheckContext, CheckFailure, defineChecks, expectThat } from '../../check.ts';
import {
  allSettled,
  describeOutcome,
  grownListeners,
  isRejection,
  listenersOf,
  type Outcome,
  type RestartState,
  restartOnce,
  watchPublish,
} from './support.ts';
import { waitFor } from '../../checks/support.ts';
import { relayToBroker } from './tcp-relay.ts';

type Context = CheckContext<'durability'>;

const paymentSucceeded = (orderId: string): OutgoingMessage => {
  const event = newEvent('payment.success', { orderId, source: 'payment', payload: { paymentId: `pay-${orderId}`, amount: 4200 } });
  return {
    content: Buffer.from(JSON.stringify(event)),
    options: { contentType: 'application/json', messageId: event.messageId, correlationId: orderId, type: event.type, appId: 'payment', headers: { 'x-schema-version': 1 } },
  };
};

const withoutId = (message: OutgoingMessage): OutgoingMessage => ({ content: message.content, options: { ...message.options, messageId: undefined } });

/** Publishes with the learner's layer and fails the check, in words, unless it resolves. */
async function publishOrFail(context: Context, channel: amqp.ConfirmChannel, exchange: string, routingKey: string, message: OutgoingMessage, why: string): Promise<void> {
  const outcome = await watchPublish(() => context.layer.publishConfirmed(channel, exchange, routingKey, message)).settled();
  expectThat(outcome.state === 'resolved', `publishConfirmed to ${exchange || 'the default exchange'} with routing key ${routingKey} to resolve (${why})`, describeOutcome(outcome));
}

/** "2 of 5 (#1 it resolved, #3 it was still waiting)": the publishes whose outcome was wrong. */
function wrongOnes(outcomes: Outcome[], right: (outcome: Outcome, index: number) => boolean, label: (index: number) => string): string {
  const wrong = outcomes.map((outcome, index) => ({ outcome, index })).filter(({ outcome, index }) => !right(outcome, index));
  const shown = wrong.slice(0, 3).map(({ outcome, index }) => `${label(index)}: ${describeOutcome(outcome)}`);
  return `${wrong.length} of ${outcomes.length} wrong (${shown.join('; ')}${wrong.length > 3 ? '; …' : ''})`;
}

// ---- Small broker helpers -----------------------------------------------------------------------

async function connectTo(context: Context, url: string): Promise<ChannelModel> {
  const connection = await amqp.connect(url);
  connection.on('error', () => {}); // a restart closes it on purpose
  context.onCleanup(() => connection.close().catch(() => {}));
  return connection;
}

/** Ready messages in a queue, or undefined when it does not exist (a fresh channel: a 404 closes it). */
async function messagesIn(connection: ChannelModel, queue: string): Promise<number | undefined> {
  const channel = await connection.createChannel();
  channel.on('error', () => {});
  try {
    const { messageCount } = await channel.checkQueue(queue);
    await channel.close();
    return messageCount;
  } catch {
    return undefined;
  }
}

async function exchangeExists(connection: ChannelModel, exchange: string): Promise<boolean> {
  const channel = await connection.createChannel();
  channel.on('error', () => {});
  try {
    await channel.checkExchange(exchange);
    await channel.close();
    return true;
  } catch {
    return false;
  }
}

interface ManagementEntity {
  name: string;
  durable: boolean;
  auto_delete: boolean;
  exclusive?: boolean;
  internal?: boolean;
  type: string;
  arguments: Record<string, unknown>;
}

const listOf = (context: Context, kind: 'queues' | 'exchanges') =>
  context.vhost.api.request<ManagementEntity[]>('GET', `/${kind}/${encodeURIComponent(context.vhost.name)}?columns=name,durable,auto_delete,exclusive,internal,type,arguments`);

/** The topology's exchanges or queues that a restart would delete (not durable, or auto-delete). */
function transientOnes(specs: { name: string }[], listed: ManagementEntity[]): string[] {
  return specs
    .map((spec) => ({ name: spec.name, entity: listed.find((entity) => entity.name === spec.name) }))
    .filter(({ entity }) => !entity || !entity.durable || entity.auto_delete || entity.exclusive)
    .map(({ name, entity }) => (entity ? `${name} (durable ${entity.durable}, auto_delete ${entity.auto_delete})` : `${name} (missing)`));
}

// ---- The broker restart -------------------------------------------------------------------------

const RESTART_WAITING = { [QUEUES.shipping]: 3, [QUEUES.inventory]: 3, [QUEUES.order]: 3, [QUEUES.audit]: 3, [QUEUES.unroutable]: 1 };

/** Declares the topology with the layer and publishes three payments and one refund nobody is bound to. */
async function declareAndPublish(context: Context, connection: ChannelModel): Promise<OutgoingMessage[]> {
  const channel = await connection.createConfirmChannel();
  channel.on('error', () => {});
  await declareTopology(channel, context.topology, context.layers, 'classic');
  // Three payments (each routed to inventory, order and shipping, and copied to audit), and one
  // event nobody is bound to, which order.exchange's alternate exchange parks in unroutable.queue.
  const payments = ['restart-1', 'restart-2', 'restart-3'].map(paymentSucceeded);
  for (const message of payments) await publishOrFail(context, channel, EXCHANGES.order, 'payment.success', message, 'shipping.queue and others are bound to it');
  await publishOrFail(context, channel, EXCHANGES.order, 'refund.issued', paymentSucceeded('restart-4'), "no queue is bound to it, so order.exchange's alternate exchange takes it");
  return payments;
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
  expectThat(lost.length === 0, 'every exchange and queue durable, so that a restart keeps them', `a restart would delete ${lost.join(', ')}`);
  const bindings = await context.vhost.api.request<Record<string, unknown>[]>('GET', `/bindings/${encodeURIComponent(context.vhost.name)}?columns=source,destination,destination_type,routing_key,arguments`);

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
  const missing = Object.entries(RESTART_WAITING).filter(([queue, expected]) => messages[queue]?.length !== expected);
  expectThat(
    missing.length === 0,
    `before any restart, the messages publishConfirmed said were sent waiting in their queues (${Object.entries(RESTART_WAITING).map(([queue, n]) => `${n} in ${queue}`).join(', ')})`,
    () => missing.map(([queue]) => `${messages[queue]?.length ?? 0} in ${queue}`).join(', ') + ': publishConfirmed resolved for messages the broker never had',
  );
  const transient = Object.entries(messages).filter(([, seen]) => seen.some((entry) => !entry.endsWith(':2')));
  expectThat(
    transient.length === 0,
    'every waiting message persistent (deliveryMode 2), so that a restart keeps it',
    () => `transient messages in ${transient.map(([queue]) => queue).join(', ')}: a restart drops them from their durable queues`,
    'publishConfirmed must publish every message persistent, whatever options it was given.',
  );

  const entity = ({ name, type, durable, auto_delete, exclusive, internal, arguments: args }: ManagementEntity) => {
    const { 'x-queue-type': _queueType, ...rest } = args; // `type` says it, whether asked for or the default
    return { name, type, durable, auto_delete, exclusive, internal, arguments: rest };
  };
  return { exchanges: exchanges.map(entity), queues: queues.map(entity), bindings, messages };
}

/** The real thing: a throwaway node, the same publishes, a restart, and what came back. */
async function restartAndLook(context: Context): Promise<void> {
  const { topology } = context;
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

  const lostExchanges: string[] = [];
  for (const { name } of topology.exchanges) if (!(await exchangeExists(after, name))) lostExchanges.push(name);
  expectThat(lostExchanges.length === 0, 'every exchange to exist after the restart', `these were gone: ${lostExchanges.join(', ')} (declared with durable: false?)`);
  const counts = new Map<string, number | undefined>();
  for (const { name } of topology.queues) counts.set(name, await messagesIn(after, name));
  const lostQueues = [...counts].filter(([, count]) => count === undefined).map(([name]) => name);
  expectThat(lostQueues.length === 0, 'every queue to exist after the restart', `these were gone: ${lostQueues.join(', ')} (a queue declared with durable: false is deleted when the broker restarts)`);

  for (const [queue, expected] of Object.entries(RESTART_WAITING)) {
    const seen = counts.get(queue);
    expectThat(
      seen === expected,
      `the ${expected} message(s) published to ${queue} before the restart to be waiting there after it`,
      `${seen} in ${queue}${seen === 0 ? ': they did not survive. Persistent messages (deliveryMode 2) in a durable queue do: were they published transient?' : ''}`,
    );
  }
  const readBack = await after.createChannel();
  for (const published of payments) {
    const message = await readBack.get(QUEUES.shipping, { noAck: true });
    const id = published.options.messageId;
    expectThat(message && message.properties.messageId === id, `message ${id} readable from shipping.queue after the restart`, () => (message ? `message ${message.properties.messageId}` : 'an empty queue'));
    expectThat(message.properties.deliveryMode === 2, `message ${id} to be persistent (deliveryMode 2)`, `deliveryMode ${message.properties.deliveryMode}`);
  }

  // The bindings came back too: fresh messages still find their queues.
  const probe = await after.createConfirmChannel();
  probe.publish(EXCHANGES.order, 'payment.success', paymentSucceeded('restart-5').content, { persistent: true });
  probe.publish(EXCHANGES.order, 'refund.issued', paymentSucceeded('restart-6').content, { persistent: true });
  await probe.waitForConfirms();
  for (const [queue, expected] of [[QUEUES.shipping, 1], [QUEUES.audit, 4], [QUEUES.unroutable, 2]] as const) {
    const seen = await messagesIn(after, queue);
    expectThat(seen === expected, `a message published after the restart to reach ${queue} through its bindings (${expected} there now)`, `${seen} in ${queue}: a binding was lost`);
  }
}

/**
 * The end of 04.unroutable. The broker sends a publish's return before its confirm, but it may send it
 * before the confirms of earlier publishes too (it confirms in batches; the return goes out as soon as
 * the message is found unroutable). A relay holds the broker's answers to five publishes in flight,
 * routable and unroutable in turn, and hands them over in that order: both returns, then the five
 * confirms. Each publish must still get its own outcome.
 */
async function returnsBeforeEarlierConfirms(context: Context, queue: string): Promise<void> {
  const relay = await relayToBroker(context);
  const channel = await (await connectTo(context, relay.url)).createConfirmChannel();
  context.onCleanup(() => relay.release()); // runs before the connection closes: its close-ok must get through
  channel.on('error', () => {});
  const batch = [
    { exchange: '', key: queue, routable: true },
    { exchange: 'check.nowhere', key: 'refund.issued', routable: false },
    { exchange: '', key: queue, routable: true },
    { exchange: '', key: 'check.no-such-queue', routable: false },
    { exchange: '', key: queue, routable: true },
  ];
  relay.hold();
  const publishing = batch.map(({ exchange, key }, i) => watchPublish(() => context.layer.publishConfirmed(channel, exchange, key, paymentSucceeded(`interleaved-${i + 1}`))));
  const allAnswered = () => relay.publishesSinceHold() >= batch.length && relay.confirmsHeld() >= batch.length;
  await waitFor(() => (allAnswered() ? true : undefined), 'the broker to answer the publishes', () => '', 2000).catch(() => {
    // A layer that sends one publish at a time, each after the confirm of the one before, has nothing to interleave: judged as it is.
    if (relay.publishesSinceHold() < batch.length) return;
    throw new CannotJudgeError(`the broker confirmed ${relay.confirmsHeld()} of ${batch.length} publishes within 2 s; grade again once the machine is less busy`);
  });
  relay.releaseReturnsFirst();
  const outcomes = await allSettled(publishing);
  const label = (i: number) => `${batch[i]?.routable ? 'routable' : 'unroutable'} publish #${i + 1}`;
  expectThat(
    outcomes.every((outcome, i) => (batch[i]?.routable ? outcome.state === 'resolved' : isRejection(outcome))),
    'each publish its own outcome when the returns of the unroutable ones (#2, #4) come before the confirm of the first: the routable ones resolve, the unroutable ones reject with PublishRejectedError',
    () => wrongOnes(outcomes, (o, i) => (batch[i]?.routable ? o.state === 'resolved' : isRejection(o)), label),
    'A return is not about the next confirm to arrive: it carries the message it returns, and so says which publish it belongs to.',
  );
}

// ---- The checks ---------------------------------------------------------------------------------

export const checks = defineChecks('durability', [
  {
    id: '04.durable-topology',
    name: 'every exchange and queue is declared durable, order.exchange with its alternate exchange',
    hint: 'Look at what exchangeOptions and queueOptions return: durable, not auto-delete, and for an exchange whose spec names an alternate exchange, that argument (README § What a restart keeps).',
    async run(context) {
      const channel = await (await context.connect()).createChannel();
      await declareTopology(channel, context.topology, context.layers, 'classic');
      const [queues, exchanges] = [await listOf(context, 'queues'), await listOf(context, 'exchanges')];
      for (const [kind, specs, listed] of [['queue', context.topology.queues, queues], ['exchange', context.topology.exchanges, exchanges]] as const) {
        const transient = transientOnes(specs, listed);
        expectThat(transient.length === 0, `every ${kind} durable and not auto-delete, as the management API reports`, () => transient.join(', '));
      }
      const alternate = exchanges.find((exchange) => exchange.name === EXCHANGES.order)?.arguments['alternate-exchange'];
      expectThat(
        alternate === EXCHANGES.unroutable,
        `order.exchange with the argument alternate-exchange = ${EXCHANGES.unroutable}`,
        `alternate-exchange = ${JSON.stringify(alternate)}`,
        "The ExchangeSpec's alternateExchange becomes the exchange argument alternate-exchange (README § The alternate exchange comes first).",
      );
    },
  },
  {
    id: '04.quorum',
    name: 'with QUEUE_TYPE=quorum, replicated queues become quorum queues; the others and priority queues stay classic',
    hint: 'Three things decide the queue type together: the queueType asked for, spec.replicate, and spec.maxPriority (README § Classic or quorum queues).',
    async run(context) {
      const { layer, layers } = context;
      const connection = await context.connect();
      const declare = async (what: string, work: (channel: amqp.Channel) => Promise<unknown>) => {
        const channel = await connection.createChannel();
        channel.on('error', () => {});
        try {
          await work(channel);
        } catch (error) {
          if (error instanceof ExerciseNotWrittenError) throw error;
          throw new CheckFailure(`${what} to be accepted by the broker`, `it refused: ${describeError(error)}`);
        }
      };
      const quorumTopology = buildTopology({ ...context.settings, queueType: 'quorum' });
      await declare('declaring the whole topology with queue type quorum', (channel) => declareTopology(channel, quorumTopology, layers, 'quorum'));
      // A replicated queue that has a priority (the classic topology's order.queue), asked for as quorum.
      const priority = queueSpec(context.topology, QUEUES.order);
      const priorityOptions = layer.queueOptions(priority, 'quorum');
      await declare('a priority queue (replicate, maxPriority 5) with queueOptions(spec, "quorum")', (channel) =>
        channel.assertQueue('check.priority.queue', { ...priorityOptions, arguments: { ...priorityOptions.arguments, 'x-max-priority': priority.maxPriority } }),
      );
      // A replicated queue on a single node (queueType classic).
      await declare('audit.queue with queueOptions(spec, "classic")', (channel) => channel.assertQueue('check.classic.queue', layer.queueOptions(queueSpec(context.topology, QUEUES.audit), 'classic')));
      // A queue that opts out of replication (every queue of ours replicates, so this one is made up), asked for as quorum.
      const unreplicated = { ...queueSpec(quorumTopology, QUEUES.audit), name: 'check.unreplicated.queue', replicate: false };
      await declare('a queue with replicate: false with queueOptions(spec, "quorum")', (channel) => channel.assertQueue(unreplicated.name, layer.queueOptions(unreplicated, 'quorum')));

      const listed = await listOf(context, 'queues');
      const typeOf = (name: string) => listed.find((queue) => queue.name === name)?.type;
      const wanted = [
        ...quorumTopology.queues.map((spec) => [spec.name, spec.replicate ? 'quorum' : 'classic', spec.replicate ? 'replicated' : 'not replicated'] as const),
        ['check.priority.queue', 'classic', 'a priority queue'] as const,
        ['check.classic.queue', 'classic', 'queue type classic was asked for'] as const,
        ['check.unreplicated.queue', 'classic', 'not replicated'] as const,
      ];
      const wrong = wanted.filter(([name, type]) => typeOf(name) !== type);
      expectThat(
        wrong.length === 0,
        'replicated queues as quorum queues, the rest classic',
        () => wrong.map(([name, type, why]) => `${name} is ${typeOf(name) ?? 'missing'} (${why}: should be ${type})`).join('; '),
      );
    },
  },
  {
    id: '04.persistent',
    name: 'publishConfirmed sends persistent messages (deliveryMode 2) with their properties intact',
    hint: 'Every message leaves persistent; everything else about it (body, headers, ids, priority, expiration) is what the caller gave (README § What a restart keeps).',
    async run(context) {
      const channel = await (await context.connect()).createConfirmChannel();
      channel.on('error', () => {});
      const { queue } = await channel.assertQueue('check.persistent', { durable: true });
      const event = paymentSucceeded('persistent-1');
      const sent: OutgoingMessage[] = [
        event,
        {
          content: Buffer.from(JSON.stringify({ note: 'Zoë’s café ☕, 東京 → Zürich' })),
          options: { contentType: 'application/json', contentEncoding: 'utf-8', messageId: 'persistent-2', priority: 7, expiration: '60000', timestamp: 1_767_225_600, headers: { 'x-city': 'Zürich', 'x-attempts': 2 } },
        },
        { content: Buffer.from(Array.from({ length: 256 }, (_, byte) => byte)), options: { contentType: 'application/octet-stream', correlationId: 'persistent-3' } },
      ];
      // All three in flight at once, as the outbox publishes a batch.
      const outcomes = await allSettled(sent.map((message) => watchPublish(() => context.layer.publishConfirmed(channel, '', queue, message))));
      expectThat(outcomes.every((o) => o.state === 'resolved'), 'the three publishes to check.persistent to resolve', () => wrongOnes(outcomes, (o) => o.state === 'resolved', (i) => `message ${i + 1}`));

      const received: amqp.GetMessage[] = [];
      for (let message = await channel.get(queue, { noAck: true }); message; message = await channel.get(queue, { noAck: true })) received.push(message);
      expectThat(received.length === sent.length, `the ${sent.length} messages in check.persistent`, `${received.length}`);
      for (const [index, message] of sent.entries()) {
        const got = received.find((r) => r.content.equals(message.content));
        expectThat(got, `message ${index + 1} to arrive with its body unchanged (byte for byte)`, () => `no message in check.persistent has that body`);
        expectThat(
          got.properties.deliveryMode === 2,
          `message ${index + 1} to arrive persistent (deliveryMode 2)`,
          `deliveryMode ${got.properties.deliveryMode ?? 'unset'} (transient: lost if the broker restarts)`,
        );
        const { headers = {}, ...given } = message.options;
        const properties = got.properties as unknown as Record<string, unknown>;
        const changed = Object.entries(given)
          .filter(([key, value]) => value !== undefined && String(properties[key]) !== String(value))
          .map(([key, value]) => `${key} ${JSON.stringify(value)} became ${JSON.stringify(properties[key])}`);
        const lostHeaders = Object.entries(headers as Record<string, unknown>)
          .filter(([key, value]) => got.properties.headers?.[key] !== value)
          .map(([key, value]) => `header ${key} ${JSON.stringify(value)} became ${JSON.stringify(got.properties.headers?.[key])}`);
        expectThat(
          changed.length + lostHeaders.length === 0,
          `message ${index + 1} to keep the properties it was given (${Object.keys(given).join(', ')}${Object.keys(headers).length ? ', headers' : ''})`,
          () => [...changed, ...lostHeaders].join('; '),
          'Add your settings to the options the caller gave; do not replace them.',
        );
      }
    },
  },
  {
    id: '04.confirmed',
    name: "publishConfirmed waits for the broker's confirm before it resolves",
    hint: "What does it mean that channel.publish() returned true? Only the broker's answer (README § Publishing is not sending) says it has the message.",
    async run(context) {
      const relay = await relayToBroker(context);
      const channel = await (await connectTo(context, relay.url)).createConfirmChannel();
      context.onCleanup(() => relay.release()); // runs before the connection closes: its close-ok must get through
      channel.on('error', () => {});
      const { queue } = await channel.assertQueue('check.confirmed', { durable: true });
      const watcher = await (await context.connect()).createChannel();

      relay.hold(); // from now on the broker's answers, its confirms among them, wait in the network
      const publishing = ['confirm-1', 'confirm-2', 'confirm-3'].map((id) => watchPublish(() => context.layer.publishConfirmed(channel, '', queue, paymentSucceeded(id))));
      await new Promise((resolve) => setImmediate(resolve));
      for (const one of publishing) one.now(); // a layer not written yet fails here
      const states = () => publishing.map((one) => one.now());
      await waitFor(
        async () => ((await watcher.checkQueue(queue)).messageCount === 3 ? true : undefined),
        'the three messages to reach check.confirmed',
        () => `${wrongOnes(states(), () => false, (i) => `publish ${i + 1}`)}, and the queue did not get all three`,
      );
      await new Promise((resolve) => setImmediate(resolve));
      expectThat(
        states().every((outcome) => outcome.state === 'pending'),
        "all three publishConfirmed calls still waiting while the broker's confirms were held up in the network",
        () => `${wrongOnes(states(), (o) => o.state === 'pending', (i) => `publish ${i + 1}`)} before any confirm had arrived`,
      );

      relay.release();
      const outcomes = await allSettled(publishing);
      expectThat(outcomes.every((o) => o.state === 'resolved'), 'each publishConfirmed to resolve once its confirm arrived', () => wrongOnes(outcomes, (o) => o.state === 'resolved', (i) => `publish ${i + 1}`));
    },
  },
  {
    id: '04.unroutable',
    name: 'publishConfirmed rejects a message no queue is bound to receive (PublishRejectedError), and only that one',
    hint: "A message nobody can receive is still acked by the broker; only a mandatory publish is sent back first, as a 'return' that you match to its own publish (README § mandatory and basic.return).",
    async run(context) {
      const channel = await (await context.connect()).createConfirmChannel();
      channel.on('error', () => {});
      await channel.assertExchange('check.nowhere', 'direct', { durable: true });
      const { queue } = await channel.assertQueue('check.somewhere', { durable: true });
      await publishOrFail(context, channel, '', queue, paymentSucceeded('warm-up'), 'the default exchange routes it to check.somewhere');
      const listenersBefore = listenersOf(channel);

      // In flight together: the unroutable ones first, then many a queue receives, some without a messageId.
      const lost = paymentSucceeded('unroutable-1');
      const batch: { exchange: string; key: string; message: OutgoingMessage; routable: boolean }[] = [
        { exchange: 'check.nowhere', key: 'payment.success', message: lost, routable: false },
        ...Array.from({ length: 40 }, (_, i) => ({ exchange: '', key: queue, message: paymentSucceeded(`routable-${i}`), routable: true })),
        { exchange: '', key: 'check.no-such-queue', message: withoutId(paymentSucceeded('unroutable-2')), routable: false },
        ...Array.from({ length: 5 }, (_, i) => ({ exchange: '', key: queue, message: withoutId(paymentSucceeded(`no-id-${i}`)), routable: true })),
      ];
      const outcomes = await allSettled(batch.map(({ exchange, key, message }) => watchPublish(() => context.layer.publishConfirmed(channel, exchange, key, message))));
      const label = (i: number) => `${batch[i]?.routable ? 'routable' : 'unroutable'} publish #${i + 1} (${batch[i]?.message.options.messageId ? 'with' : 'without'} a messageId)`;
      const returned = batch.map((b, i) => ({ ...b, outcome: outcomes[i] as Outcome })).filter((b) => !b.routable);
      expectThat(
        returned.every(({ outcome }) => isRejection(outcome)),
        'each publish nobody is bound to receive (no alternate exchange either) to reject with PublishRejectedError',
        () => wrongOnes(returned.map(({ outcome }) => outcome), isRejection, (i) => `${returned[i]?.exchange || 'the default exchange'} / ${returned[i]?.key}`) + (returned.some(({ outcome }) => outcome.state === 'resolved') ? ': the broker dropped the message and your code called it sent' : ''),
      );
      const unnamed = returned.filter(({ outcome, key }) => isRejection(outcome) && !(outcome.error.reason.includes(key) || /no_route/i.test(outcome.error.reason)));
      expectThat(unnamed.length === 0, "each rejection's reason to say what could not be routed (the routing key, or the broker's NO_ROUTE)", () => unnamed.map(({ outcome }) => (isRejection(outcome) ? `reason ${JSON.stringify(outcome.error.reason)}` : '')).join('; '));
      expectThat(
        outcomes.every((outcome, i) => (batch[i]?.routable ? outcome.state === 'resolved' : true)),
        'every routable publish in flight with them to resolve: a return belongs to one publish only',
        () => wrongOnes(outcomes, (o, i) => !batch[i]?.routable || o.state === 'resolved', label),
        'Which publish does a returned message belong to? The same channel has many in flight.',
      );
      const grown = grownListeners(listenersBefore, listenersOf(channel));
      expectThat(
        grown.length === 0,
        `the channel's listeners to be as many after ${batch.length} more publishes as after the first`,
        () => `${grown.join(', ')}: a listener per publish, never removed`,
        'Listen on the channel once, not once per publish (or remove what a publish added when it settles).',
      );

      // The outbox publishes a rejected row again, with the same messageId: now a queue receives it.
      await channel.bindQueue(queue, 'check.nowhere', 'payment.success');
      const again = await watchPublish(() => context.layer.publishConfirmed(channel, 'check.nowhere', 'payment.success', lost)).settled();
      expectThat(
        again.state === 'resolved',
        `the rejected message, published again with the same messageId once check.somewhere is bound to receive it, to resolve`,
        () => `${describeOutcome(again)}: its earlier return still counted against it`,
        'What your code remembers about a returned message belongs to that one publish: forget it once it is settled.',
      );

      await returnsBeforeEarlierConfirms(context, queue);
    },
  },
  {
    id: '04.nack',
    name: 'publishConfirmed rejects a message the broker refuses (a full queue), and only that one',
    hint: "The confirm callback's first argument tells an ack from a nack (README § A queue that says no).",
    async run(context) {
      const channel = await (await context.connect()).createConfirmChannel();
      channel.on('error', () => {});
      const { queue } = await channel.assertQueue('check.bounded', { durable: true, arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } });
      const { queue: roomy } = await channel.assertQueue('check.roomy', { durable: true });
      // In flight together: the first fills check.bounded, the second and fourth are refused.
      const batch = [
        { to: queue, refused: false },
        { to: queue, refused: true },
        { to: roomy, refused: false },
        { to: queue, refused: true },
        { to: roomy, refused: false },
      ];
      const outcomes = await allSettled(batch.map(({ to }, i) => watchPublish(() => context.layer.publishConfirmed(channel, '', to, paymentSucceeded(`full-${i + 1}`)))));
      const label = (i: number) => `publish #${i + 1} to ${batch[i]?.to}${batch[i]?.refused ? ' (refused)' : ''}`;
      expectThat(
        outcomes.every((outcome, i) => !batch[i]?.refused || isRejection(outcome)),
        'each publish refused by the full queue (x-overflow reject-publish, so the broker nacks it) to reject with PublishRejectedError',
        () => wrongOnes(outcomes, (o, i) => !batch[i]?.refused || isRejection(o), label) + (outcomes.some((o, i) => batch[i]?.refused && o.state === 'resolved') ? ': the broker said no and your code called the message sent' : ''),
      );
      expectThat(
        outcomes.every((outcome, i) => batch[i]?.refused || outcome.state === 'resolved'),
        'each publish the broker accepted, in flight with the refused ones, to resolve: a nack belongs to one publish only',
        () => wrongOnes(outcomes, (o, i) => !!batch[i]?.refused || o.state === 'resolved', label),
        'Each publish has its own answer from the broker: wait for that one, not for every publish in flight on the channel.',
      );
      const counts = [(await channel.checkQueue(queue)).messageCount, (await channel.checkQueue(roomy)).messageCount];
      expectThat(counts[0] === 1 && counts[1] === 2, 'check.bounded to hold 1 message and check.roomy 2', `${counts[0]} and ${counts[1]}`);
    },
  },
  {
    id: '04.channel-closed',
    name: "publishConfirmed rejects with the broker's reason when the broker closes the channel",
    hint: 'A channel the broker closes answers no more publishes: amqplib fails what was in flight, and the broker said why in its \'error\' event (README § When the broker closes the channel).',
    async run(context) {
      const channel = await (await context.connect()).createConfirmChannel();
      channel.on('error', () => {}); // the check's own: a layer without one must not take the grader down
      // The broker closes the channel: NOT_FOUND, there is no such exchange.
      const doomed = await watchPublish(() => context.layer.publishConfirmed(channel, 'check.no-such-exchange', 'payment.success', paymentSucceeded('closed-1'))).settled();
      expectThat(doomed.state === 'rejected', 'a publish to an exchange that does not exist (the broker closes the channel) to reject', describeOutcome(doomed));
      expectThat(
        !(doomed.error instanceof PublishRejectedError),
        'a rejection other than PublishRejectedError: the broker did not refuse the message, it closed the channel',
        describeOutcome(doomed),
        "A nack and a closed channel both reach the confirm callback as an error; only a nack is the broker refusing the message.",
      );
      expectThat(
        describeError(doomed.error).includes('NOT_FOUND'),
        "the rejection to carry the broker's reason (NOT_FOUND - no exchange 'check.no-such-exchange')",
        describeOutcome(doomed),
        "The broker's reason arrives in the channel's 'error' event, just before its 'close'.",
      );
      // The outbox may still publish on it before it notices: a rejection, not a throw and not a hang.
      const later = watchPublish(() => context.layer.publishConfirmed(channel, EXCHANGES.order, 'payment.success', paymentSucceeded('closed-2')));
      const after = await later.settled(1000);
      expectThat(!later.threwSynchronously, 'a publish on the closed channel to return a rejected promise', () => `it threw at the caller: ${describeOutcome(after)}`);
      expectThat(after.state === 'rejected', 'a publish on the closed channel to reject', describeOutcome(after));
    },
  },
  {
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
  },
]);
