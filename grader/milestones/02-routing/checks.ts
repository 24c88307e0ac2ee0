// Milestone 2: routing. The learner's declareRoutes runs on a fresh vhost (queues declared first, as
// the runtime does) and the checks publish to the exchanges it declared and look where messages land.
import type { ConfirmChannel } from 'amqplib';
import { ExerciseNotWrittenError } from '../../../shared/workshop/exercise.ts';
import { EVENT_TYPES, type EventType } from '../../../shared/messages/events.ts';
import { buildTopology, EXCHANGES, QUEUES } from '../../../shared/topology/topology.ts';
import type { BindingSpec, ExchangeSpec, Topology } from '../../../shared/topology/types.ts';
import { type CheckContext, CheckFailure, defineChecks, expectThat } from '../../check.ts';
import { declareTopology } from '../../../solutions/runtime/declare-topology.ts';
import { sampleEvent as sampleEventOf } from '../../../shared/messages/sample-events.ts';
import { bindingsOf, compareBindings, describeDiff, isEmptyDiff } from '../../checks/bindings-support.ts';
import { callTimeout, waitFor } from '../../checks/support.ts';
import { declareQueues, publishAll, startServices, subscribersOf, whereDidTheyGo } from '../../checks/topology-support.ts';

// Retry queues keep what they get for a minute here, so a check can look at them before they
// dead-letter it back home.
const TOPOLOGY = buildTopology({ retryDelayMs: 60_000, maxAttempts: 3, notificationTtlMs: 60_000, queueType: 'classic' });

const sampleEvent = (type: EventType, express = false) => sampleEventOf(type, { express });

const ROUTED = new Set(TOPOLOGY.exchanges.filter((spec) => spec.type === 'topic' || spec.type === 'direct').map((spec) => spec.name));
/** The queue bindings layer 2 owns, from one exchange (order.exchange or retry.exchange). */
const queueBindingsFrom = (topology: Topology, exchange: string) =>
  topology.bindings.filter((b) => b.source === exchange && b.destinationKind === 'queue');
const queueBindingFrom = (exchange: string) => (b: BindingSpec) => b.source === exchange && b.destinationKind === 'queue';

/** How the vhost's queue bindings from `exchange` differ from the topology's, or undefined when they agree. */
async function bindingCause(context: CheckContext, topology: Topology, exchange: string): Promise<string | undefined> {
  const diff = compareBindings(await bindingsOf(context), queueBindingsFrom(topology, exchange), queueBindingFrom(exchange));
  return isEmptyDiff(diff) ? undefined : `on ${exchange}, ${describeDiff(diff)}`;
}

const list = (names: string[]) => (names.length === 0 ? 'no queue' : names.join(', '));

async function openChannel(context: Pick<CheckContext, 'connect'>): Promise<ConfirmChannel> {
  const channel = await (await context.connect()).createConfirmChannel();
  channel.on('error', () => {}); // a channel the broker closes rejects the pending call; that is reported
  return channel;
}

const whyFailed = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Queues, then the learner's declareRoutes; with `fanout`, then the reference fanout layer (it
 * declares unroutable.exchange, the alternate exchange's target). `durable` declares everything as
 * the system does (needed when services start on the same vhost); `durableExchanges` only the
 * exchanges (to see that declareRoutes passes on exchangeOptions).
 */
async function declareRouting(
  context: CheckContext<'routing'>,
  options: { durable?: boolean; durableExchanges?: boolean; fanout?: boolean; topology?: Topology } = {},
): Promise<ConfirmChannel> {
  const { topology = TOPOLOGY, durable = false, durableExchanges = durable } = options;
  const exchangeOptions = (spec: ExchangeSpec) => ({
    ...context.reference.durability.exchangeOptions(spec),
    ...(durableExchanges ? {} : { durable: false }),
  });
  const channel = await openChannel(context);
  await declareQueues(channel, topology, context.reference, durable, context.settings.queueType);
  try {
    await context.layer.declareRoutes(channel, topology, exchangeOptions);
  } catch (error) {
    if (error instanceof ExerciseNotWrittenError) throw error;
    throw new CheckFailure('declareRoutes to declare the exchanges and bindings without errors', `it failed: ${whyFailed(error)}`);
  }
  if (options.fanout) {
    try {
      await context.reference.fanout.declareFanout(channel, topology, exchangeOptions);
    } catch (error) {
      throw new CheckFailure(
        'the reference fanout layer (milestone 3) to bind to your exchanges after declareRoutes',
        `the broker refused: ${whyFailed(error)}`,
      );
    }
  }
  return channel;
}

interface ExchangeInfo {
  name: string;
  type: string;
  durable: boolean;
  arguments: Record<string, unknown>;
  auto_delete: boolean;
  internal: boolean;
}

/** The exchange as the management API shows it, or undefined when it does not exist. */
async function exchangeInfos(context: CheckContext): Promise<Map<string, ExchangeInfo>> {
  const exchanges = await context.vhost.api.request<ExchangeInfo[]>('GET', `/exchanges/${encodeURIComponent(context.vhost.name)}`);
  return new Map(
    exchanges.map(({ name, type, durable, arguments: args, auto_delete, internal }) => [
      name,
      { name, type, durable, arguments: args, auto_delete, internal },
    ]),
  );
}

async function exchangeInfo(context: CheckContext, name: string): Promise<ExchangeInfo | undefined> {
  return (await exchangeInfos(context)).get(name);
}

async function requireExchange(context: CheckContext, name: string, type: string): Promise<ExchangeInfo> {
  const info = await exchangeInfo(context, name);
  expectThat(info, `declareRoutes to declare ${name} (a ${type} exchange)`, `there is no exchange ${name} after declareRoutes`);
  return info;
}

/** What an auto-delete exchange does, for the failure message. */
const autoDeleted =
  'an auto-delete exchange: the broker deletes it when its last binding goes (a queue unbound or deleted), and events published to it then close the channel';

interface OrderView {
  status: string;
  history: Array<{ status: string; event: string }>;
}

/** Places an order through the HTTP API and waits until it is completed; fails with where it got stuck. */
async function placeOrderAndWaitForCompletion(baseUrl: string, orderId: string, timeoutMs = 4000): Promise<OrderView> {
  const placed = await fetch(`${baseUrl}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ orderId, user: 'gayal', items: ['item1', 'item2'], express: true }),
    signal: callTimeout(5000, 'POST /orders'),
  });
  expectThat(placed.status === 201, 'POST /orders to answer 201 (order.created published and confirmed)', () => `HTTP ${placed.status}`);
  let last: OrderView | undefined;
  return waitFor(
    async () => {
      last = (await (
        await fetch(`${baseUrl}/orders/${orderId}`, { signal: callTimeout(2000, `GET /orders/${orderId}`) })
      ).json()) as OrderView;
      return last.status === 'completed' ? last : undefined;
    },
    `order ${orderId} to go pending → paid → shipped → completed`,
    () =>
      `it stayed ${last?.status ?? 'unknown'} (steps: ${last?.history.map((step) => step.event).join(' → ') ?? 'none'}): an event did not reach the service that handles it`,
    timeoutMs,
  );
}

export const checks = defineChecks('routing', [
  {
    id: '02.routing-key',
    name: 'routingKeyFor gives each event its type as the routing key, express orders included',
    hint: 'The bindings of SUBSCRIPTIONS match event types, word for word (README § Exchanges, bindings and routing keys).',
    async run({ layer }) {
      for (const express of [false, true]) {
        for (const type of EVENT_TYPES) {
          const key = layer.routingKeyFor(sampleEvent(type, express));
          expectThat(
            key === type,
            `routingKeyFor(${express ? 'an express ' : 'a '}${type} event) to be "${type}"`,
            `"${key}"`,
            express && key !== layer.routingKeyFor(sampleEvent(type))
              ? 'An express order is routed like any other: the bindings know only event types. Express orders overtake through priorities (milestone 9).'
              : undefined,
          );
        }
      }
    },
  },
  {
    id: '02.exchanges',
    name: 'order.exchange is a topic exchange with its alternate exchange, retry.exchange is direct',
    hint: 'Each topic and direct exchange of topology.exchanges, with its own type and the options exchangeOptions(spec) gives: they carry durability and the alternate exchange.',
    async run(context) {
      await declareRouting(context, { durableExchanges: true });
      const order = await requireExchange(context, EXCHANGES.order, 'topic');
      expectThat(order.type === 'topic', `${EXCHANGES.order} to be a topic exchange`, `a ${order.type} exchange`);
      expectThat(order.durable, `${EXCHANGES.order} to be durable (from exchangeOptions(spec))`, 'a transient exchange');
      expectThat(!order.auto_delete, `${EXCHANGES.order} not auto-delete (from exchangeOptions(spec))`, autoDeleted);
      const alternate = order.arguments['alternate-exchange'];
      expectThat(
        alternate === EXCHANGES.unroutable,
        `${EXCHANGES.order} to have the alternate-exchange argument ${EXCHANGES.unroutable} (pass exchangeOptions(spec))`,
        alternate === undefined
          ? 'no alternate exchange: unroutable events would be dropped'
          : `alternate-exchange ${JSON.stringify(alternate)}`,
      );
      for (const spec of TOPOLOGY.exchanges.filter((s) => ROUTED.has(s.name) && s.name !== EXCHANGES.order)) {
        const info = await requireExchange(context, spec.name, spec.type);
        expectThat(info.type === spec.type, `${spec.name} to be a ${spec.type} exchange`, `a ${info.type} exchange`);
        expectThat(info.durable, `${spec.name} to be durable (from exchangeOptions(spec))`, 'a transient exchange');
        expectThat(!info.auto_delete, `${spec.name} not auto-delete (from exchangeOptions(spec))`, autoDeleted);
      }
    },
  },
  {
    id: '02.subscriptions',
    name: 'each event type reaches exactly the service queues subscribed to it',
    hint: 'Every binding of topology.bindings from a topic or direct exchange to a queue, each with its pattern as it is, and no other: the line above names what differs.',
    async run(context) {
      const channel = await declareRouting(context);
      await requireExchange(context, EXCHANGES.order, 'topic');
      await publishAll(
        channel,
        EVENT_TYPES.map((type) => ({ exchange: EXCHANGES.order, routingKey: type, id: type })),
      );
      const reached = await whereDidTheyGo(channel, TOPOLOGY);
      const cause = await bindingCause(context, TOPOLOGY, EXCHANGES.order);
      for (const type of EVENT_TYPES) {
        const expected = subscribersOf(type);
        const seen = reached.get(type) ?? [];
        expectThat(
          seen.join() === expected.join(),
          `${type} to reach ${list(expected)}${expected.length === 0 ? ' (only the audit and notification fanouts of milestone 3 want it)' : ''}`,
          `it reached ${list(seen)}${cause ? `; ${cause}` : ''}`,
          undefined,
          cause,
        );
      }
      expectThat(
        cause === undefined,
        `the queue bindings of ${EXCHANGES.order} to be exactly the topology's`,
        () => cause ?? '',
        undefined,
        cause,
      );
    },
  },
  {
    id: '02.retry-route',
    name: "retry.exchange sends a failed message to its queue's retry queue, by the queue's name",
    hint: 'retry.exchange is direct: a key matches a binding only when it is equal to it, and the key of a failed message is the name of the queue it failed in (README § Exchange types).',
    async run(context) {
      const channel = await declareRouting(context);
      await requireExchange(context, EXCHANGES.retry, 'direct');
      const failedFrom = [QUEUES.inventory, QUEUES.order, QUEUES.audit];
      await publishAll(
        channel,
        failedFrom.map((queue) => ({ exchange: EXCHANGES.retry, routingKey: queue, id: `failed in ${queue}` })),
      );
      const reached = await whereDidTheyGo(channel, TOPOLOGY);
      const cause = await bindingCause(context, TOPOLOGY, EXCHANGES.retry);
      for (const queue of failedFrom) {
        const seen = reached.get(`failed in ${queue}`) ?? [];
        expectThat(
          seen.join() === `${queue}.retry`,
          `a message published to ${EXCHANGES.retry} with key ${queue} to reach ${queue}.retry only`,
          `it reached ${list(seen)}${cause ? `; ${cause}` : ''}`,
          undefined,
          cause,
        );
      }
      expectThat(
        cause === undefined,
        `the queue bindings of ${EXCHANGES.retry} to be exactly the topology's`,
        () => cause ?? '',
        undefined,
        cause,
      );
    },
  },
  {
    id: '02.unroutable',
    name: 'an event nobody subscribes to (refund.issued) lands in unroutable.queue',
    hint: "order.exchange's alternate exchange (it comes with exchangeOptions(spec)) catches what no binding matches: unless a binding matches everything.",
    async run(context) {
      const channel = await declareRouting(context, { fanout: true });
      await publishAll(channel, [{ exchange: EXCHANGES.order, routingKey: 'refund.issued', id: 'refund.issued' }]);
      const seen = (await whereDidTheyGo(channel, TOPOLOGY)).get('refund.issued') ?? [];
      expectThat(
        seen.join() === QUEUES.unroutable,
        `refund.issued to reach ${QUEUES.unroutable} only (through the alternate exchange)`,
        seen.length === 0 ? 'it vanished: order.exchange has no alternate exchange' : `it reached ${list(seen)}`,
      );
    },
  },
  {
    id: '02.no-fanout',
    name: 'declareRoutes leaves fanout exchanges and exchange-to-exchange bindings to milestone 3',
    hint: "Each exchange and binding is declared by exactly one layer: fanout exchanges, the bindings from them and exchange-to-exchange bindings are milestone 3's.",
    async run(context) {
      await declareRouting(context);
      const vhost = encodeURIComponent(context.vhost.name);
      const exchanges = await context.vhost.api.request<ExchangeInfo[]>('GET', `/exchanges/${vhost}`);
      const fanouts = new Set(TOPOLOGY.exchanges.filter((spec) => spec.type === 'fanout').map((spec) => spec.name));
      const declared = exchanges.filter((exchange) => fanouts.has(exchange.name)).map((exchange) => `${exchange.name} (${exchange.type})`);
      expectThat(declared.length === 0, 'no fanout exchanges after declareRoutes alone', `it declared ${declared.join(', ')}`);
      const bindings = await context.vhost.api.request<
        Array<{ source: string; destination: string; destination_type: string; routing_key: string }>
      >('GET', `/bindings/${vhost}`);
      const toExchanges = bindings
        .filter((binding) => binding.destination_type === 'exchange')
        .map((b) => `${b.source} → ${b.destination} (${b.routing_key})`);
      expectThat(
        toExchanges.length === 0,
        'no exchange-to-exchange bindings after declareRoutes alone',
        `it bound ${toExchanges.join(', ')}`,
      );
    },
  },
  {
    id: '02.redeclare',
    name: 'declaring the routes again, where the whole topology already exists, succeeds and changes nothing',
    hint: 'Every service declares the topology at every start: a declaration must describe each exchange exactly as it already is (README § Declaring is idempotent, with the same arguments).',
    async run(context) {
      // The broker as the running system leaves it: every queue, exchange and binding, declared by the reference layers.
      const channel = await openChannel(context);
      await declareTopology(channel, context.topology, context.reference, context.settings.queueType);
      const before = await bindingsOf(context);
      const exchangesBefore = await exchangeInfos(context);
      for (const attempt of ['first', 'second']) {
        // A refused declaration closes the channel: each attempt gets one of its own.
        const fresh = await openChannel(context);
        try {
          await context.layer.declareRoutes(fresh, context.topology, (spec) => context.reference.durability.exchangeOptions(spec));
        } catch (error) {
          if (error instanceof ExerciseNotWrittenError) throw error;
          const message = whyFailed(error);
          throw new CheckFailure(
            `the ${attempt} declareRoutes on a vhost where the system already declared everything to succeed`,
            `the broker refused it: ${message}`,
            /inequivalent arg/.test(message)
              ? 'An exchange that exists must be declared with the same type and the same options: the ones exchangeOptions(spec) gives.'
              : undefined,
          );
        }
      }
      const diff = compareBindings(
        await bindingsOf(context),
        before.map((b) => ({ source: b.source, destination: b.destination, destinationKind: b.destination_type, pattern: b.routing_key })),
        () => true,
      );
      expectThat(
        isEmptyDiff(diff),
        'the bindings to be the same after declaring twice more',
        () => describeDiff(diff),
        diff.missing.length > 0
          ? 'Declaring adds what is missing and leaves the rest: deleting or unbinding first removes bindings that other layers made.'
          : undefined,
      );
      const exchangesAfter = await exchangeInfos(context);
      const changed = [...exchangesBefore.values()]
        .filter((info) => JSON.stringify(exchangesAfter.get(info.name)) !== JSON.stringify(info))
        .map((info) => info.name);
      expectThat(changed.length === 0, 'every exchange as it was', () => `changed: ${changed.join(', ')}`);
    },
  },
  {
    id: '02.in-the-system',
    name: 'with your routing, the order system takes an express order all the way to completed',
    hint: 'Each service queue needs every event type SUBSCRIPTIONS lists for it, and every event, express or not, is published under its type.',
    timeoutMs: 8000,
    async run(context) {
      // Declare once up front: a broken declareRoutes fails here at once, instead of services retrying their setup.
      await declareRouting(context, { topology: context.topology, durable: true, fanout: true });
      for (const exchange of ROUTED) {
        const cause = await bindingCause(context, context.topology, exchange);
        expectThat(
          cause === undefined,
          `the bindings the order system needs (${exchange})`,
          () => `${cause}: some events would never reach their service`,
          undefined,
          cause,
        );
      }
      for (const express of [false, true]) {
        const event = sampleEvent('order.created', express);
        const key = context.layer.routingKeyFor(event);
        expectThat(
          key === event.type,
          `routingKeyFor(${express ? 'an express' : 'a'} order.created) to be "order.created"`,
          `"${key}": no binding matches it`,
        );
      }
      const services = await startServices(context, ['order', 'inventory', 'payment', 'shipping']);
      await placeOrderAndWaitForCompletion(
        `http://127.0.0.1:${services.order.httpPort}`,
        `routing-${Math.random().toString(36).slice(2, 8)}`,
      );
    },
  },
]);
