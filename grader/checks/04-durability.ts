// Milestone 4: durability and publisher confirms. One check restarts a throwaway broker for real and
// looks at what came back; the others watch publishConfirmed settle (or not) against the live broker.
import amqp, { type ChannelModel } from 'amqplib';
import { ExerciseNotWrittenError } from '../../shared/workshop/exercise.ts';
import type { OutgoingMessage } from '../../shared/layers/01-publish-consume.ts';
import { PublishRejectedError } from '../../shared/layers/04-durability.ts';
import { describeError } from '../../shared/log.ts';
import { newEvent } from '../../shared/messages/events.ts';
import { buildTopology, EXCHANGES, QUEUES, queueSpec } from '../../shared/topology/topology.ts';
import { declareTopology } from '../../solutions/runtime/declare-topology.ts';
import { type CheckContext, CheckFailure, defineChecks, expectThat } from '../check.ts';
import { waitFor } from './support.ts';
import { relayToBroker } from './tcp-relay.ts';

type Context = CheckContext<'durability'>;

const paymentSucceeded = (orderId: string): OutgoingMessage => {
  const event = newEvent('payment.success', { orderId, source: 'payment', payload: { paymentId: `pay-${orderId}`, amount: 4200 } });
  return { content: Buffer.from(JSON.stringify(event)), options: { contentType: 'application/json', messageId: event.messageId, type: event.type } };
};

// ---- How a publishConfirmed call ended, watched without awaiting it ------------------------------

type Outcome = { state: 'pending' } | { state: 'resolved' } | { state: 'rejected'; error: unknown };

interface Watched {
  now(): Outcome;
  /** Waits up to timeoutMs for it to settle; a layer not written yet fails the check here. */
  settled(timeoutMs?: number): Promise<Outcome>;
}

function watchPublish(publish: () => Promise<void>): Watched {
  let outcome: Outcome = { state: 'pending' };
  let promise: Promise<void>;
  try {
    promise = publish();
  } catch (error) {
    promise = Promise.reject(error); // a synchronous throw counts as a rejection
  }
  const done = promise.then(
    () => (outcome = { state: 'resolved' }),
    (error: unknown) => (outcome = { state: 'rejected', error }),
  );
  const now = () => {
    if (outcome.state === 'rejected' && outcome.error instanceof ExerciseNotWrittenError) throw outcome.error;
    return outcome;
  };
  return {
    now,
    async settled(timeoutMs = 3000) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([done, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
      return now();
    },
  };
}

function describeOutcome(outcome: Outcome): string {
  if (outcome.state === 'pending') return 'it was still waiting';
  if (outcome.state === 'resolved') return 'it resolved';
  const { error } = outcome;
  const impostor = error instanceof Error && error.name === 'PublishRejectedError' && !(error instanceof PublishRejectedError);
  return `it rejected with ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}${impostor ? ' (a class of your own: import PublishRejectedError from shared/layers/04-durability.ts)' : ''}`;
}

/** Publishes with the learner's layer and fails the check, in words, unless it resolves. */
async function publishOrFail(context: Context, channel: amqp.ConfirmChannel, exchange: string, routingKey: string, message: OutgoingMessage, why: string): Promise<void> {
  const outcome = await watchPublish(() => context.layer.publishConfirmed(channel, exchange, routingKey, message)).settled();
  expectThat(outcome.state === 'resolved', `publishConfirmed to ${exchange || 'the default exchange'} with routing key ${routingKey} to resolve (${why})`, describeOutcome(outcome));
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
  type: string;
  arguments: Record<string, unknown>;
}

const listOf = (context: Context, kind: 'queues' | 'exchanges') =>
  context.vhost.api.request<ManagementEntity[]>('GET', `/${kind}/${encodeURIComponent(context.vhost.name)}?columns=name,durable,auto_delete,type,arguments`);

// ---- The checks ---------------------------------------------------------------------------------

export const checks = defineChecks('durability', [
  {
    id: '04.durable-topology',
    name: 'every exchange and queue is declared durable, order.exchange with its alternate exchange',
    hint: 'exchangeOptions: { durable: true, autoDelete: false, arguments: { "alternate-exchange": spec.alternateExchange } when the spec has one }. queueOptions: { durable: true, ... }.',
    async run(context) {
      const channel = await (await context.connect()).createChannel();
      await declareTopology(channel, context.topology, context.layers, 'classic');
      const [queues, exchanges] = [await listOf(context, 'queues'), await listOf(context, 'exchanges')];
      for (const [kind, specs, listed] of [['queue', context.topology.queues, queues], ['exchange', context.topology.exchanges, exchanges]] as const) {
        const transient = specs.map((spec) => listed.find((entity) => entity.name === spec.name)).filter((entity) => !entity || !entity.durable || entity.auto_delete);
        expectThat(
          transient.length === 0,
          `every ${kind} durable and not auto-delete, as the management API reports`,
          () => transient.map((entity) => (entity ? `${entity.name} (durable ${entity.durable}, auto_delete ${entity.auto_delete})` : 'a missing one')).join(', '),
        );
      }
      const alternate = exchanges.find((exchange) => exchange.name === EXCHANGES.order)?.arguments['alternate-exchange'];
      expectThat(alternate === EXCHANGES.unroutable, `order.exchange with the argument alternate-exchange = ${EXCHANGES.unroutable}`, `alternate-exchange = ${JSON.stringify(alternate)}`);
    },
  },
  {
    id: '04.quorum',
    name: 'with QUEUE_TYPE=quorum, replicated queues become quorum queues; the others and priority queues stay classic',
    hint: "x-queue-type 'quorum' only when queueType is 'quorum' AND spec.replicate AND no spec.maxPriority; 'classic' otherwise. Quorum queues on RabbitMQ 3.10 refuse x-max-priority.",
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

      const listed = await listOf(context, 'queues');
      const typeOf = (name: string) => listed.find((queue) => queue.name === name)?.type;
      const wanted = [
        ...quorumTopology.queues.map((spec) => [spec.name, spec.replicate ? 'quorum' : 'classic', spec.replicate ? 'replicated' : 'not replicated'] as const),
        ['check.priority.queue', 'classic', 'a priority queue'] as const,
        ['check.classic.queue', 'classic', 'queue type classic was asked for'] as const,
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
    hint: 'Spread the message options and add persistent: true (that is deliveryMode 2); keep messageId, contentType and the rest as given.',
    async run(context) {
      const channel = await (await context.connect()).createConfirmChannel();
      channel.on('error', () => {});
      const { queue } = await channel.assertQueue('check.persistent', { durable: true });
      const sent = paymentSucceeded('persistent-1');
      await publishOrFail(context, channel, '', queue, sent, 'the default exchange routes it to check.persistent');
      const received = await channel.get(queue, { noAck: true });
      expectThat(received, 'the message in check.persistent', 'an empty queue');
      const { deliveryMode, messageId, contentType, type } = received.properties;
      expectThat(deliveryMode === 2, 'the consumer to see deliveryMode 2 (persistent)', `deliveryMode ${deliveryMode ?? 'unset'} (transient: lost if the broker restarts)`);
      expectThat(
        messageId === sent.options.messageId && contentType === 'application/json' && type === 'payment.success' && received.content.equals(sent.content),
        `the body and the properties given (messageId ${sent.options.messageId}, contentType application/json, type payment.success) to arrive unchanged`,
        `messageId ${messageId}, contentType ${contentType}, type ${type}, ${received.content.equals(sent.content) ? 'the same body' : 'a different body'}`,
      );
    },
  },
  {
    id: '04.confirmed',
    name: "publishConfirmed waits for the broker's confirm before it resolves",
    hint: "Resolve in the publish callback of the ConfirmChannel (it runs when the broker's basic.ack arrives), not when channel.publish() returns: true from publish() only means the message went into a local buffer.",
    async run(context) {
      const relay = await relayToBroker(context);
      const channel = await (await connectTo(context, relay.url)).createConfirmChannel();
      context.onCleanup(() => relay.release()); // runs before the connection closes: its close-ok must get through
      channel.on('error', () => {});
      const { queue } = await channel.assertQueue('check.confirmed', { durable: true });
      const watcher = await (await context.connect()).createChannel();

      relay.hold(); // from now on the broker's answers, its confirm among them, wait in the network
      const publishing = watchPublish(() => context.layer.publishConfirmed(channel, '', queue, paymentSucceeded('confirm-1')));
      await new Promise((resolve) => setImmediate(resolve));
      publishing.now(); // a layer not written yet fails here
      await waitFor(
        async () => ((await watcher.checkQueue(queue)).messageCount === 1 ? true : undefined),
        'the message to reach check.confirmed',
        () => `${describeOutcome(publishing.now())}, and the queue stayed empty`,
      );
      await new Promise((resolve) => setImmediate(resolve));
      expectThat(
        publishing.now().state === 'pending',
        "publishConfirmed still waiting while the broker's confirm was held up in the network",
        () => `${describeOutcome(publishing.now())} before any confirm had arrived`,
      );

      relay.release();
      const outcome = await publishing.settled();
      expectThat(outcome.state === 'resolved', 'publishConfirmed to resolve once the confirm arrived', describeOutcome(outcome));
    },
  },
  {
    id: '04.unroutable',
    name: 'publishConfirmed rejects a message no queue is bound to receive (PublishRejectedError)',
    hint: "Publish with mandatory: true and listen for the channel's 'return' event: an unroutable message comes back (matched by its messageId) before its confirm. Then reject with new PublishRejectedError(...).",
    async run(context) {
      const channel = await (await context.connect()).createConfirmChannel();
      channel.on('error', () => {});
      await channel.assertExchange('check.nowhere', 'direct', { durable: true });
      await channel.assertQueue('check.somewhere', { durable: true });

      // The unroutable one first, then one the default exchange delivers: each must get its own verdict.
      const lost = watchPublish(() => context.layer.publishConfirmed(channel, 'check.nowhere', 'payment.success', paymentSucceeded('unroutable-1')));
      const delivered = watchPublish(() => context.layer.publishConfirmed(channel, '', 'check.somewhere', paymentSucceeded('unroutable-2')));
      const [lostOutcome, deliveredOutcome] = [await lost.settled(), await delivered.settled()];
      expectThat(
        lostOutcome.state === 'rejected' && lostOutcome.error instanceof PublishRejectedError,
        'a publish to an exchange with no matching binding (and no alternate exchange) to reject with PublishRejectedError',
        () => `${describeOutcome(lostOutcome)}${lostOutcome.state === 'resolved' ? ': the broker dropped the message and your code called it sent' : ''}`,
      );
      expectThat(deliveredOutcome.state === 'resolved', 'the routable publish right after it to resolve', describeOutcome(deliveredOutcome));
    },
  },
  {
    id: '04.nack',
    name: 'publishConfirmed rejects a message the broker refuses (a full queue)',
    hint: 'The confirm callback gets an error when the broker answers basic.nack: reject with new PublishRejectedError(...) then, never resolve.',
    async run(context) {
      const channel = await (await context.connect()).createConfirmChannel();
      channel.on('error', () => {});
      const { queue } = await channel.assertQueue('check.bounded', { durable: true, arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } });
      const first = await watchPublish(() => context.layer.publishConfirmed(channel, '', queue, paymentSucceeded('full-1'))).settled();
      expectThat(first.state === 'resolved', 'the first publish to check.bounded (room for 1 message) to resolve', describeOutcome(first));
      const second = await watchPublish(() => context.layer.publishConfirmed(channel, '', queue, paymentSucceeded('full-2'))).settled();
      expectThat(
        second.state === 'rejected' && second.error instanceof PublishRejectedError,
        'the second publish, refused by the full queue (x-overflow reject-publish, so the broker nacks it), to reject with PublishRejectedError',
        () => `${describeOutcome(second)}${second.state === 'resolved' ? ': the broker said no and your code called the message sent' : ''}`,
      );
      const { messageCount } = await channel.checkQueue(queue);
      expectThat(messageCount === 1, 'check.bounded to hold 1 message', `${messageCount}`);
    },
  },
  {
    id: '04.survives-restart',
    name: 'the topology and the waiting messages survive a broker restart',
    hint: 'Declare every exchange and queue with durable: true (autoDelete: false), keep the alternate-exchange argument, and publish with persistent: true. A transient message in a durable queue is still lost on restart.',
    timeoutMs: 60_000,
    async run(context) {
      const { layer, layers, topology } = context;
      // Ask the layer first: one not written yet fails here, before a broker is started for nothing.
      for (const spec of topology.exchanges) layer.exchangeOptions(spec);
      for (const spec of topology.queues) layer.queueOptions(spec, 'classic');

      const broker = await context.brokerControl.acquireRestartable();
      context.onCleanup(() => broker.release());
      const before = await connectTo(context, broker.url);
      const channel = await before.createConfirmChannel();
      channel.on('error', () => {});
      await declareTopology(channel, topology, layers, 'classic');

      // Three payments (each routed to inventory, order and shipping, and copied to audit), and one
      // event nobody is bound to, which order.exchange's alternate exchange parks in unroutable.queue.
      const payments = ['restart-1', 'restart-2', 'restart-3'].map(paymentSucceeded);
      for (const message of payments) await publishOrFail(context, channel, EXCHANGES.order, 'payment.success', message, 'shipping.queue and others are bound to it');
      await publishOrFail(context, channel, EXCHANGES.order, 'refund.issued', paymentSucceeded('restart-4'), "no queue is bound to it, so order.exchange's alternate exchange takes it");
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

      const waiting = { [QUEUES.shipping]: 3, [QUEUES.inventory]: 3, [QUEUES.order]: 3, [QUEUES.audit]: 3, [QUEUES.unroutable]: 1 };
      for (const [queue, expected] of Object.entries(waiting)) {
        const seen = counts.get(queue);
        expectThat(
          seen === expected,
          `the ${expected} message(s) published to ${queue} before the restart to be waiting there after it`,
          `${seen} in ${queue}${seen === 0 ? ': they did not survive. Persistent messages (deliveryMode 2) in a durable queue do: were they published transient, or did publishConfirmed resolve before the broker had them?' : ''}`,
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
    },
  },
]);
