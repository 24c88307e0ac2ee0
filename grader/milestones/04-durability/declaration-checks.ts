// Milestone 4's checks on what the layer declares and how it publishes: durable exchanges and
// queues, quorum or classic queue types, persistent messages with their properties intact.
import type amqp from 'amqplib';
import type { OutgoingMessage } from '../../../shared/layers/01-publish-consume.ts';
import { describeError } from '../../../shared/log.ts';
import { buildTopology, EXCHANGES, QUEUES, queueSpec } from '../../../shared/topology/topology.ts';
import { ExerciseNotWrittenError } from '../../../shared/workshop/exercise.ts';
import { declareTopology } from '../../../solutions/runtime/declare-topology.ts';
import { type Check, CheckFailure, expectThat } from '../../check.ts';
import { ignoreErrorsTheCheckReports } from '../../checks/support.ts';
import { listOf, transientOnes } from './broker-state.ts';
import { type Context, paymentSucceeded, wrongOnes } from './publishing.ts';
import { allSettled, watchPublish } from './support.ts';

export const durableTopology: Check<'durability'> = {
  id: '04.durable-topology',
  name: 'every exchange and queue is declared durable, order.exchange with its alternate exchange',
  hint: 'Look at what exchangeOptions and queueOptions return: durable, not auto-delete, and for an exchange whose spec names an alternate exchange, that argument (README § What a restart keeps).',
  async run(context) {
    const channel = await (await context.connect()).createChannel();
    await declareTopology(channel, context.topology, context.layers, 'classic');
    const [queues, exchanges] = [await listOf(context, 'queues'), await listOf(context, 'exchanges')];
    for (const [kind, specs, listed] of [
      ['queue', context.topology.queues, queues],
      ['exchange', context.topology.exchanges, exchanges],
    ] as const) {
      const transient = transientOnes(specs, listed);
      expectThat(transient.length === 0, `every ${kind} durable and not auto-delete, as the management API reports`, () =>
        transient.join(', '),
      );
    }
    const alternate = exchanges.find((exchange) => exchange.name === EXCHANGES.order)?.arguments['alternate-exchange'];
    expectThat(
      alternate === EXCHANGES.unroutable,
      `order.exchange with the argument alternate-exchange = ${EXCHANGES.unroutable}`,
      `alternate-exchange = ${JSON.stringify(alternate)}`,
      "The ExchangeSpec's alternateExchange becomes the exchange argument alternate-exchange (README § The alternate exchange comes first).",
    );
  },
};

/** Declares the quorum topology and three made-up queues with the layer's options; fails when the broker refuses one. */
async function declareQueueTypeCases(context: Context, quorumTopology: ReturnType<typeof buildTopology>): Promise<void> {
  const { layer, layers } = context;
  const connection = await context.connect();
  const declare = async (what: string, work: (channel: amqp.Channel) => Promise<unknown>) => {
    const channel = ignoreErrorsTheCheckReports(await connection.createChannel());
    try {
      await work(channel);
    } catch (error) {
      if (error instanceof ExerciseNotWrittenError) throw error;
      throw new CheckFailure(`${what} to be accepted by the broker`, `it refused: ${describeError(error)}`);
    }
  };
  await declare('declaring the whole topology with queue type quorum', (channel) =>
    declareTopology(channel, quorumTopology, layers, 'quorum'),
  );
  // A replicated queue that has a priority (the classic topology's order.queue), asked for as quorum.
  const priority = queueSpec(context.topology, QUEUES.order);
  const priorityOptions = layer.queueOptions(priority, 'quorum');
  await declare('a priority queue (replicate, maxPriority 5) with queueOptions(spec, "quorum")', (channel) =>
    channel.assertQueue('check.priority.queue', {
      ...priorityOptions,
      arguments: { ...priorityOptions.arguments, 'x-max-priority': priority.maxPriority },
    }),
  );
  // A replicated queue on a single node (queueType classic).
  await declare('audit.queue with queueOptions(spec, "classic")', (channel) =>
    channel.assertQueue('check.classic.queue', layer.queueOptions(queueSpec(context.topology, QUEUES.audit), 'classic')),
  );
  // A queue that opts out of replication (every queue of ours replicates, so this one is made up), asked for as quorum.
  const unreplicated = { ...queueSpec(quorumTopology, QUEUES.audit), name: 'check.unreplicated.queue', replicate: false };
  await declare('a queue with replicate: false with queueOptions(spec, "quorum")', (channel) =>
    channel.assertQueue(unreplicated.name, layer.queueOptions(unreplicated, 'quorum')),
  );
}

export const quorum: Check<'durability'> = {
  id: '04.quorum',
  name: 'with QUEUE_TYPE=quorum, replicated queues become quorum queues; the others and priority queues stay classic',
  hint: 'Three things decide the queue type together: the queueType asked for, spec.replicate, and spec.maxPriority (README § Classic or quorum queues).',
  async run(context) {
    const quorumTopology = buildTopology({ ...context.settings, queueType: 'quorum' });
    await declareQueueTypeCases(context, quorumTopology);
    const listed = await listOf(context, 'queues');
    const typeOf = (name: string) => listed.find((queue) => queue.name === name)?.type;
    const wanted = [
      ...quorumTopology.queues.map(
        (spec) => [spec.name, spec.replicate ? 'quorum' : 'classic', spec.replicate ? 'replicated' : 'not replicated'] as const,
      ),
      ['check.priority.queue', 'classic', 'a priority queue'] as const,
      ['check.classic.queue', 'classic', 'queue type classic was asked for'] as const,
      ['check.unreplicated.queue', 'classic', 'not replicated'] as const,
    ];
    const wrong = wanted.filter(([name, type]) => typeOf(name) !== type);
    expectThat(wrong.length === 0, 'replicated queues as quorum queues, the rest classic', () =>
      wrong.map(([name, type, why]) => `${name} is ${typeOf(name) ?? 'missing'} (${why}: should be ${type})`).join('; '),
    );
  },
};

/** The three messages 04.persistent sends: an event, one with every property set, one of raw bytes. */
function persistentSamples(): OutgoingMessage[] {
  return [
    paymentSucceeded('persistent-1'),
    {
      content: Buffer.from(JSON.stringify({ note: 'Zoë’s café ☕, 東京 → Zürich' })),
      options: {
        contentType: 'application/json',
        contentEncoding: 'utf-8',
        messageId: 'persistent-2',
        priority: 7,
        expiration: '60000',
        timestamp: 1_767_225_600,
        headers: { 'x-city': 'Zürich', 'x-attempts': 2 },
      },
    },
    {
      content: Buffer.from(Array.from({ length: 256 }, (_, byte) => byte)),
      options: { contentType: 'application/octet-stream', correlationId: 'persistent-3' },
    },
  ];
}

/** Message `index + 1` arrived as `got`: persistent, and with every property and header it was given. */
function expectArrivedIntact(index: number, message: OutgoingMessage, got: amqp.GetMessage): void {
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
  const givenNames = Object.keys(given).join(', ');
  const andHeaders = Object.keys(headers).length ? ', headers' : '';
  expectThat(
    changed.length + lostHeaders.length === 0,
    `message ${index + 1} to keep the properties it was given (${givenNames}${andHeaders})`,
    () => [...changed, ...lostHeaders].join('; '),
    'Add your settings to the options the caller gave; do not replace them.',
  );
}

export const persistent: Check<'durability'> = {
  id: '04.persistent',
  name: 'publishConfirmed sends persistent messages (deliveryMode 2) with their properties intact',
  hint: 'Every message leaves persistent; everything else about it (body, headers, ids, priority, expiration) is what the caller gave (README § What a restart keeps).',
  async run(context) {
    const channel = ignoreErrorsTheCheckReports(await (await context.connect()).createConfirmChannel());
    const { queue } = await channel.assertQueue('check.persistent', { durable: true });
    const sent = persistentSamples();
    // All three in flight at once, as the outbox publishes a batch.
    const outcomes = await allSettled(
      sent.map((message) => watchPublish(() => context.layer.publishConfirmed(channel, '', queue, message))),
    );
    expectThat(
      outcomes.every((o) => o.state === 'resolved'),
      'the three publishes to check.persistent to resolve',
      () =>
        wrongOnes(
          outcomes,
          (o) => o.state === 'resolved',
          (i) => `message ${i + 1}`,
        ),
    );

    const received: amqp.GetMessage[] = [];
    for (let message = await channel.get(queue, { noAck: true }); message; message = await channel.get(queue, { noAck: true }))
      received.push(message);
    expectThat(received.length === sent.length, `the ${sent.length} messages in check.persistent`, `${received.length}`);
    for (const [index, message] of sent.entries()) {
      const got = received.find((r) => r.content.equals(message.content));
      expectThat(
        got,
        `message ${index + 1} to arrive with its body unchanged (byte for byte)`,
        () => `no message in check.persistent has that body`,
      );
      expectArrivedIntact(index, message, got);
    }
  },
};
