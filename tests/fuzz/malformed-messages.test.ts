// Property-based fuzzing of every consumer: for every queue a service consumes and every event type
// that queue gets (read from the topology: the subscriptions, the audit and notification fanouts),
// malformed messages are published as any other client of the broker could, on order.exchange with
// the event's routing key or straight to the queue. Each must be parked in dead-letter.queue, from
// every queue it reached, at once, with its reason, and every consumer must keep running.
// Seeded (tests/fuzz/support/fuzz-settings.ts): FUZZ_SEED replays a run.
import fc from 'fast-check';
import amqp, { type Channel, type ConsumeMessage } from 'amqplib';
import { beforeAll, describe, expect, it } from 'vitest';
import { PARK_HEADERS } from '../../shared/layers/index.ts';
import { DomainEventSchema, EVENT_TYPES, type EventType } from '../../shared/messages/events.ts';
import { buildTopology, EXCHANGES, QUEUES, routingHeadersFor, SUBSCRIPTIONS } from '../../shared/topology/topology.ts';
import type { BindingSpec, Topology } from '../../shared/topology/types.ts';
import { SERVICES } from '../../solutions/services/index.ts';
import type { RunningSystem } from '../../solutions/system.ts';
import { eventually } from '../support/eventually.ts';
import { headerOf, TestBrokerClient, type MessageCollector } from '../system/support/broker-client.ts';
import { getJson, postOrder, waitForStatus } from '../system/support/order-api.ts';
import { FAST_SETTINGS, useSystemUnderTest } from '../system/support/system-under-test.ts';
import { fuzzParameters, replayHint } from './support/fuzz-settings.ts';
import { malformedBodies, publishProperties, sampleEvent, type MalformedBody } from './support/malformed-events.ts';
import { topicMatches } from '../../shared/topology/topic-match.ts';

const RUNS = 300;
const RPC_RUNS = 60;
const CASE_HEADER = 'x-fuzz-case';

const topology = buildTopology(FAST_SETTINGS.topology);

/** Whether a headers exchange's binding matches these headers: x-match all or any, values equal with their type, x- headers not compared. */
function headersMatch(args: Record<string, unknown> = {}, headers: Record<string, unknown>): boolean {
  const wanted = Object.entries(args).filter(([name]) => !name.startsWith('x-'));
  const equal = ([name, value]: [string, unknown]) => headers[name] === value;
  return args['x-match'] === 'any' ? wanted.some(equal) : wanted.every(equal);
}

/** The queues a message published to `exchange` with `routingKey` and `headers` lands in, following exchange-to-exchange bindings. */
function queuesReached(data: Topology, exchange: string, routingKey: string, headers: Record<string, unknown>): string[] {
  const kind = data.exchanges.find((spec) => spec.name === exchange)?.type;
  const matches = (binding: BindingSpec) => {
    if (kind === 'fanout') return true;
    if (kind === 'headers') return headersMatch(binding.arguments, headers);
    return kind === 'topic' ? topicMatches(binding.pattern, routingKey) : binding.pattern === routingKey;
  };
  const matching = data.bindings.filter((binding) => binding.source === exchange && matches(binding));
  return [
    ...new Set(
      matching.flatMap((binding) =>
        binding.destinationKind === 'queue' ? [binding.destination] : queuesReached(data, binding.destination, routingKey, headers),
      ),
    ),
  ];
}

/** The routing headers of an express order's event, as the services publish it: order events worth a text reach the SMS queue too. */
const routingHeadersOf = (type: EventType) => routingHeadersFor({ type, express: true });

/** Queues a service consumes domain events from (not the RPC queue, whose failures go back to the caller). */
const CONSUMED = topology.queues.filter((spec) => spec.consumer !== undefined && spec.failure.kind !== 'none').map((spec) => spec.name);
const REACHED = new Map(
  EVENT_TYPES.map((type) => [
    type,
    queuesReached(topology, EXCHANGES.order, type, routingHeadersOf(type)).filter((queue) => CONSUMED.includes(queue)),
  ]),
);
/** Every (queue, event type) pair: what each consumed queue gets. */
const PAIRS = [...REACHED].flatMap(([type, queues]) => queues.map((queue) => ({ queue, type })));

const HANDLED = new Map(
  Object.values(SERVICES).flatMap((service) =>
    service.consumers.map((consumer) => [consumer.queue, new Set(Object.keys(consumer.handlers))] as const),
  ),
);
/** A valid event of a type `queue` has no handler for, sent straight to it, is parked too. */
const unhandledTypes = (queue: string) => EVENT_TYPES.filter((type) => !HANDLED.get(queue)?.has(type));

interface Target {
  route: string;
  exchange: string;
  routingKey: string;
  type: EventType;
  /** Every queue that must park it. */
  queues: string[];
  /** The headers a headers exchange routes on, as a service sets them ({} straight to a queue). */
  routingHeaders: Record<string, unknown>;
}

const viaOrderExchange = fc.constantFrom(...EVENT_TYPES).map((type): Target => ({
  route: `order.exchange ${type}`,
  exchange: EXCHANGES.order,
  routingKey: type,
  type,
  queues: REACHED.get(type) ?? [],
  routingHeaders: routingHeadersOf(type),
}));
const straightToQueue = fc.constantFrom(...PAIRS).map(({ queue, type }): Target => ({
  route: `default exchange → ${queue} (${type})`,
  exchange: '',
  routingKey: queue,
  type,
  queues: [queue],
  routingHeaders: {},
}));

const cases = fc
  .oneof(viaOrderExchange, straightToQueue)
  .chain((target) => {
    const others = EVENT_TYPES.filter((type) => type !== target.type);
    const bodies: fc.Arbitrary<MalformedBody>[] = [malformedBodies(target.type, others)];
    const [queue] = target.queues;
    const unhandled = target.exchange === '' && queue ? unhandledTypes(queue) : [];
    if (queue && unhandled.length > 0) {
      bodies.push(
        fc.constantFrom(...unhandled).map((type) => ({
          what: `a valid ${type}, which ${queue} has no handler for`,
          content: Buffer.from(JSON.stringify(sampleEvent(type, 'fuzz-order'))),
          reason: new RegExp(`^${queue.replaceAll('.', '\\.')} has no handler for ${type.replaceAll('.', '\\.')} events$`),
          properties: { type },
        })),
      );
    }
    return fc.record({ target: fc.constant(target), body: fc.oneof(...bodies), properties: publishProperties });
  })
  .map((fuzzCase) => ({
    ...fuzzCase,
    [fc.toStringMethod]: () => {
      const text = fuzzCase.body.content.toString('utf8');
      return `${fuzzCase.body.what} via ${fuzzCase.target.route} ${JSON.stringify(fuzzCase.properties)}: ${JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}… (${fuzzCase.body.content.length} bytes)` : text)}`;
    },
  }));

/** Payment-status requests ({"orderId": "..."}) that are not one: the RPC server answers each with an error. */
const malformedRpcRequests = fc
  .oneof(
    fc
      .integer({ min: 0, max: 15 })
      .map((cut) => ({ content: Buffer.from('{"orderId":"fuzz-order"}'.slice(0, cut)), reason: /^the request is not valid JSON/ })),
    fc
      .uint8Array({ maxLength: 1024 })
      .map((bytes) => ({ content: Buffer.from([0xff, ...bytes]), reason: /^the request is not valid JSON/ })),
    fc
      .oneof(
        fc.jsonValue({ maxDepth: 2 }).filter((value) => typeof value !== 'object' || value === null || Array.isArray(value)),
        fc.record({
          orderId: fc.oneof(fc.constant(''), fc.integer(), fc.constant(null), fc.array(fc.string({ maxLength: 3 }), { maxLength: 2 })),
        }),
        fc.dictionary(
          fc.string({ maxLength: 8 }).filter((key) => key !== 'orderId'),
          fc.string({ maxLength: 8 }),
          { maxKeys: 3 },
        ),
        fc.integer({ min: 1000, max: 100_000 }).map((depth) => `@@deep-${depth}@@`),
      )
      .map((value) => ({
        content: Buffer.from(
          JSON.stringify(value).replace(
            /^"@@deep-(\d+)@@"$/,
            (_, depth: string) => `${'['.repeat(Number(depth))}${']'.repeat(Number(depth))}`,
          ),
        ),
        reason: /^invalid payment status request: /,
      })),
  )
  .map((request) => ({ ...request, [fc.toStringMethod]: () => JSON.stringify(request.content.toString('utf8').slice(0, 200)) }));

describe('fuzzing the consumers with malformed messages', () => {
  const sut = useSystemUnderTest('fuzz-messages');
  let system: RunningSystem;
  let client: TestBrokerClient;
  let deadLetters: MessageCollector;
  /** For consumer counts (checkQueue), on a connection of its own. */
  let inspector: Channel;
  let executions = 0;

  beforeAll(async () => {
    system = await sut.start();
    client = await TestBrokerClient.connect(sut.vhost.url);
    deadLetters = await client.collect(QUEUES.deadLetter);
    const connection = await amqp.connect(sut.vhost.url);
    connection.on('error', () => {});
    inspector = await connection.createChannel();
    inspector.on('error', () => {});
    return async () => {
      await connection.close().catch(() => {});
      await client.close();
    };
  });

  const consumersOn = async (queue: string) => (await inspector.checkQueue(queue)).consumerCount;

  it('the cases cover every queue a service consumes, each with every event type it gets', () => {
    expect([...CONSUMED].sort()).toEqual(
      Object.values(SERVICES)
        .flatMap((service) => service.consumers.map((consumer) => consumer.queue))
        .sort(),
    );
    for (const [service, types] of Object.entries(SUBSCRIPTIONS)) {
      for (const type of types)
        expect(PAIRS, `${service} gets ${type}`).toContainEqual({ queue: QUEUES[service as keyof typeof SUBSCRIPTIONS], type });
    }
    for (const type of EVENT_TYPES) expect(PAIRS, `audit gets ${type}`).toContainEqual({ queue: QUEUES.audit, type });
    // Through the headers exchange: an express order's event worth a text, and not a routine one.
    expect(PAIRS).toContainEqual({ queue: QUEUES.notificationSms, type: 'order.shipped' });
    expect(PAIRS).not.toContainEqual({ queue: QUEUES.notificationSms, type: 'order.paid' });
    // The mutations start from valid events: each sample is one.
    for (const type of EVENT_TYPES) expect(DomainEventSchema.safeParse(sampleEvent(type, 'fuzz-order')).error?.issues).toBeUndefined();
  });

  it(`${RUNS} malformed messages: each parked at once, with its reason, by every queue it reached`, async () => {
    await fc.assert(
      fc.asyncProperty(cases, async ({ target, body, properties }) => {
        executions += 1;
        const caseId = `case-${executions}`;
        const headers = { ...properties.headers, ...target.routingHeaders, [CASE_HEADER]: caseId };
        await client.publish(target.exchange, target.routingKey, body.content, { ...properties, ...body.properties, headers });

        const parked = await eventually(
          () => {
            const copies = deadLetters.messages.filter((message) => headerOf(message, CASE_HEADER) === caseId);
            const from = new Map(copies.map((message) => [headerOf(message, PARK_HEADERS.queue), message]));
            return target.queues.every((queue) => from.has(queue)) && from;
          },
          { timeoutMs: 5000, intervalMs: 5, what: `${caseId} parked from ${target.queues.join(', ')}` },
        );
        for (const queue of target.queues) {
          const message = parked.get(queue) as ConsumeMessage;
          expect(headerOf(message, PARK_HEADERS.reason), `🚨 parked from ${queue} with the reason`).toMatch(body.reason);
          expect(headerOf(message, PARK_HEADERS.attempts), `🚨 parked at once, not retried (${queue})`).toBe('1');
          expect(message.content.equals(body.content), '🚨 parked as it was sent, byte for byte').toBe(true);
        }
        for (const queue of target.queues) expect(await consumersOn(queue), `🚨 the consumer on ${queue} is still there`).toBe(1);
      }),
      fuzzParameters(RUNS),
    );
  }, 120_000);

  it(`${RPC_RUNS} malformed payment-status requests: each answered with an error, or dropped without reply_to; the RPC server keeps serving`, async () => {
    const { queue: replyQueue } = await inspector.assertQueue('', { exclusive: true, autoDelete: true });
    const replies: ConsumeMessage[] = [];
    await inspector.consume(replyQueue, (message) => message && replies.push(message), { noAck: true });
    await fc.assert(
      fc.asyncProperty(malformedRpcRequests, fc.boolean(), async (request, answerable) => {
        executions += 1;
        const correlationId = `rpc-${executions}`;
        await client.publish('', QUEUES.paymentRpc, request.content, {
          correlationId,
          contentType: 'application/json',
          ...(answerable ? { replyTo: replyQueue } : {}),
        });
        if (!answerable) {
          // Nobody to answer: acked and dropped, not left in the queue.
          await eventually(async () => (await inspector.checkQueue(QUEUES.paymentRpc)).messageCount === 0, {
            timeoutMs: 5000,
            intervalMs: 5,
            what: `${correlationId} taken off ${QUEUES.paymentRpc}`,
          });
        } else {
          const reply = await eventually(() => replies.find((message) => message.properties.correlationId === correlationId), {
            timeoutMs: 5000,
            intervalMs: 5,
            what: `the reply to ${correlationId}`,
          });
          expect(reply.properties.headers?.['x-rpc-error'], '🚨 an error reply is marked as one').toBe(true);
          expect(JSON.parse(reply.content.toString('utf8')), '🚨 the error says what was wrong').toEqual({
            error: expect.stringMatching(request.reason),
          });
        }
        expect(await consumersOn(QUEUES.paymentRpc), `🚨 the RPC server on ${QUEUES.paymentRpc} is still there`).toBe(1);
      }),
      fuzzParameters(RPC_RUNS),
    );
  }, 120_000);

  it('every consumer kept running: one consumer per queue, no restarts, and an order placed afterwards completes', async () => {
    for (const queue of CONSUMED) expect(await consumersOn(queue), `🚨 consumers on ${queue}`).toBe(1);
    const trouble = sut.logs.lines.filter((line) =>
      /restarting the broker session|channel closed by the broker|could not settle|lost the broker connection/.test(line),
    );
    expect(trouble, `🚨 a malformed message must not cost a consumer its channel (${replayHint()})`).toEqual([]);
    const placed = await postOrder(`${system.baseUrl}`, { orderId: 'after-the-fuzz', user: 'gayal', items: ['item1', 'item2'] });
    expect(placed.status).toBe(201);
    await waitForStatus(`${system.baseUrl}`, 'after-the-fuzz', 'completed');
    // The RPC server still answers (GET /orders/:id/payment asks it over payment.rpc.queue).
    const payment = await getJson<{ status?: string }>(`${system.baseUrl}/orders/after-the-fuzz/payment`);
    expect(payment.status).toBe(200);
    expect(payment.body.status).not.toBe('unknown');
  });
});
