// Milestone 2: routing. The learner's declareRoutes runs on a fresh vhost (queues declared first, as
// the runtime does) and the checks publish to the exchanges it declared and look where messages land.
import type { ConfirmChannel } from 'amqplib';
import { ExerciseNotWrittenError } from '../../shared/workshop/exercise.ts';
import { type DomainEvent, EVENT_TYPES, type EventOf, type EventType, newEvent } from '../../shared/messages/events.ts';
import { buildTopology, EXCHANGES, QUEUES } from '../../shared/topology/topology.ts';
import type { ExchangeSpec, Topology } from '../../shared/topology/types.ts';
import { type CheckContext, CheckFailure, defineChecks, expectThat } from '../check.ts';
import { waitFor } from './support.ts';
import { declareQueues, publishAll, startServices, subscribersOf, whereDidTheyGo } from './topology-support.ts';

// Retry queues keep what they get for a minute here, so a check can look at them before they
// dead-letter it back home.
const TOPOLOGY = buildTopology({ retryDelayMs: 60_000, maxAttempts: 3, notificationTtlMs: 60_000, queueType: 'classic' });

const items = [{ sku: 'item1', quantity: 1 }];
const SAMPLE_PAYLOADS: { [T in EventType]: EventOf<T>['payload'] } = {
  'order.created': { user: 'gayal', items },
  'order.paid': { paymentId: 'p-1', amount: 1500 },
  'order.shipped': { shipmentId: 's-1' },
  'order.completed': {},
  'order.rejected': { reason: 'out of stock' },
  'order.failed': { reason: 'payment declined' },
  'inventory.reserved': { items, amount: 1500 },
  'inventory.out_of_stock': { missing: [{ sku: 'item1', requested: 1, available: 0 }] },
  'inventory.committed': { items },
  'inventory.released': { items, reason: 'payment declined' },
  'payment.success': { paymentId: 'p-1', amount: 1500 },
  'payment.failed': { reason: 'declined', amount: 1500 },
  'shipping.prepared': { shipmentId: 's-1' },
  'shipping.delivered': { shipmentId: 's-1' },
  'delivery.confirmed': { confirmedBy: 'simulation' },
};
const sampleEvent = (type: EventType) => newEvent(type, { orderId: 'order-42', source: 'order', payload: SAMPLE_PAYLOADS[type] as never }) as DomainEvent;

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
  const exchangeOptions = (spec: ExchangeSpec) => ({ ...context.reference.durability.exchangeOptions(spec), ...(durableExchanges ? {} : { durable: false }) });
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
      throw new CheckFailure('the reference fanout layer (milestone 3) to bind to your exchanges after declareRoutes', `the broker refused: ${whyFailed(error)}`);
    }
  }
  return channel;
}

interface ExchangeInfo {
  name: string;
  type: string;
  durable: boolean;
  arguments: Record<string, unknown>;
}

/** The exchange as the management API shows it, or undefined when it does not exist. */
async function exchangeInfo(context: CheckContext, name: string): Promise<ExchangeInfo | undefined> {
  const exchanges = await context.vhost.api.request<ExchangeInfo[]>('GET', `/exchanges/${encodeURIComponent(context.vhost.name)}`);
  return exchanges.find((exchange) => exchange.name === name);
}

async function requireExchange(context: CheckContext, name: string, type: string): Promise<ExchangeInfo> {
  const info = await exchangeInfo(context, name);
  expectThat(info, `declareRoutes to declare ${name} (a ${type} exchange)`, `there is no exchange ${name} after declareRoutes`);
  return info;
}

interface OrderView {
  status: string;
  history: Array<{ status: string; event: string }>;
}

/** Places an order through the HTTP API and waits until it is completed; fails with where it got stuck. */
async function placeOrderAndWaitForCompletion(baseUrl: string, orderId: string, timeoutMs = 4000): Promise<OrderView> {
  const placed = await fetch(`${baseUrl}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ orderId, user: 'gayal', items: ['item1', 'item2'] }),
    signal: AbortSignal.timeout(5000),
  });
  expectThat(placed.status === 201, 'POST /orders to answer 201 (order.created published and confirmed)', () => `HTTP ${placed.status}`);
  let last: OrderView | undefined;
  return waitFor(
    async () => {
      last = (await (await fetch(`${baseUrl}/orders/${orderId}`, { signal: AbortSignal.timeout(2000) })).json()) as OrderView;
      return last.status === 'completed' ? last : undefined;
    },
    `order ${orderId} to go pending → paid → shipped → completed`,
    () => `it stayed ${last?.status ?? 'unknown'} (steps: ${last?.history.map((step) => step.event).join(' → ') ?? 'none'}): an event did not reach the service that handles it`,
    timeoutMs,
  );
}

export const checks = defineChecks('routing', [
  {
    id: '02.routing-key',
    name: 'routingKeyFor gives each event its type as the routing key',
    hint: 'Return event.type: bindings like order.* and payment.success match on it.',
    async run({ layer }) {
      for (const type of EVENT_TYPES) {
        const key = layer.routingKeyFor(sampleEvent(type));
        expectThat(key === type, `routingKeyFor(${type} event) to be "${type}"`, `"${key}"`);
      }
    },
  },
  {
    id: '02.exchanges',
    name: 'order.exchange is a topic exchange with its alternate exchange, retry.exchange is direct',
    hint: "channel.assertExchange(spec.name, spec.type, exchangeOptions(spec)) for each topic and direct exchange: exchangeOptions(spec) carries durable and the alternate-exchange argument.",
    async run(context) {
      await declareRouting(context, { durableExchanges: true });
      const order = await requireExchange(context, EXCHANGES.order, 'topic');
      expectThat(order.type === 'topic', `${EXCHANGES.order} to be a topic exchange`, `a ${order.type} exchange`);
      expectThat(order.durable, `${EXCHANGES.order} to be durable (from exchangeOptions(spec))`, 'a transient exchange');
      const alternate = order.arguments['alternate-exchange'];
      expectThat(
        alternate === EXCHANGES.unroutable,
        `${EXCHANGES.order} to have the alternate-exchange argument ${EXCHANGES.unroutable} (pass exchangeOptions(spec))`,
        alternate === undefined ? 'no alternate exchange: unroutable events would be dropped' : `alternate-exchange ${JSON.stringify(alternate)}`,
      );
      const retry = await requireExchange(context, EXCHANGES.retry, 'direct');
      expectThat(retry.type === 'direct', `${EXCHANGES.retry} to be a direct exchange`, `a ${retry.type} exchange`);
      expectThat(retry.durable, `${EXCHANGES.retry} to be durable (from exchangeOptions(spec))`, 'a transient exchange');
    },
  },
  {
    id: '02.subscriptions',
    name: 'each event type reaches exactly the service queues subscribed to it',
    hint: 'For every binding in topology.bindings whose source is a topic or direct exchange and whose destination is a queue: channel.bindQueue(binding.destination, binding.source, binding.pattern). The pattern is the exact event type, not #.',
    async run(context) {
      const channel = await declareRouting(context);
      await requireExchange(context, EXCHANGES.order, 'topic');
      await publishAll(channel, EVENT_TYPES.map((type) => ({ exchange: EXCHANGES.order, routingKey: type, id: type })));
      const reached = await whereDidTheyGo(channel, TOPOLOGY);
      for (const type of EVENT_TYPES) {
        const expected = subscribersOf(type);
        const seen = reached.get(type) ?? [];
        expectThat(
          seen.join() === expected.join(),
          `${type} to reach ${list(expected)}${expected.length === 0 ? ' (only the audit and notification fanouts of milestone 3 want it)' : ''}`,
          `it reached ${list(seen)}`,
        );
      }
    },
  },
  {
    id: '02.retry-route',
    name: "retry.exchange sends a failed message to its queue's retry queue, by the queue's name",
    hint: 'retry.exchange is direct: bind each <queue>.retry with the exact key <queue> (the bindings in topology.bindings from retry.exchange).',
    async run(context) {
      const channel = await declareRouting(context);
      await requireExchange(context, EXCHANGES.retry, 'direct');
      const failedFrom = [QUEUES.inventory, QUEUES.order, QUEUES.audit];
      await publishAll(channel, failedFrom.map((queue) => ({ exchange: EXCHANGES.retry, routingKey: queue, id: `failed in ${queue}` })));
      const reached = await whereDidTheyGo(channel, TOPOLOGY);
      for (const queue of failedFrom) {
        const seen = reached.get(`failed in ${queue}`) ?? [];
        expectThat(seen.join() === `${queue}.retry`, `a message published to ${EXCHANGES.retry} with key ${queue} to reach ${queue}.retry only`, `it reached ${list(seen)}`);
      }
    },
  },
  {
    id: '02.unroutable',
    name: 'an event nobody subscribes to (refund.issued) lands in unroutable.queue',
    hint: 'Declare order.exchange with exchangeOptions(spec): it carries alternate-exchange = unroutable.exchange, which catches what no binding matches.',
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
    hint: 'Filter topology.exchanges to type topic or direct, and topology.bindings to destinationKind "queue" from those exchanges: each exchange and binding is declared in exactly one layer.',
    async run(context) {
      await declareRouting(context);
      const vhost = encodeURIComponent(context.vhost.name);
      const exchanges = await context.vhost.api.request<ExchangeInfo[]>('GET', `/exchanges/${vhost}`);
      const fanouts = new Set(TOPOLOGY.exchanges.filter((spec) => spec.type === 'fanout').map((spec) => spec.name));
      const declared = exchanges.filter((exchange) => fanouts.has(exchange.name)).map((exchange) => `${exchange.name} (${exchange.type})`);
      expectThat(declared.length === 0, 'no fanout exchanges after declareRoutes alone', `it declared ${declared.join(', ')}`);
      const bindings = await context.vhost.api.request<Array<{ source: string; destination: string; destination_type: string; routing_key: string }>>('GET', `/bindings/${vhost}`);
      const toExchanges = bindings.filter((binding) => binding.destination_type === 'exchange').map((b) => `${b.source} → ${b.destination} (${b.routing_key})`);
      expectThat(toExchanges.length === 0, 'no exchange-to-exchange bindings after declareRoutes alone', `it bound ${toExchanges.join(', ')}`);
    },
  },
  {
    id: '02.in-the-system',
    name: 'with your routing, the order system takes an order all the way to completed',
    hint: 'Every service queue needs each event type SUBSCRIPTIONS lists for it (shipping.queue needs delivery.confirmed too), and events must be published with their type as the routing key.',
    timeoutMs: 8000,
    async run(context) {
      // Declare once up front: a broken declareRoutes fails here at once, instead of services retrying their setup.
      await declareRouting(context, { topology: context.topology, durable: true, fanout: true });
      const event = sampleEvent('order.created');
      expectThat(context.layer.routingKeyFor(event) === event.type, `routingKeyFor(order.created) to be "order.created"`, `"${context.layer.routingKeyFor(event)}"`);
      const services = await startServices(context, ['order', 'inventory', 'payment', 'shipping']);
      await placeOrderAndWaitForCompletion(`http://127.0.0.1:${services.order.httpPort}`, `routing-${Math.random().toString(36).slice(2, 8)}`);
    },
  },
]);
