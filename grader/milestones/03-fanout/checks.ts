// Milestone 3: fanout. The reference routing layer declares order.exchange and the service queue
// bindings; the learner's declareFanout adds the fanout exchanges, their queues and the
// exchange-to-exchange bindings. The checks publish and look which queues got a copy.
import type { ConfirmChannel } from 'amqplib';
import { ExerciseNotWrittenError } from '../../../shared/workshop/exercise.ts';
import { topicMatches } from '../../../shared/topology/topic-match.ts';
import { EVENT_TYPES, type EventType } from '../../../shared/messages/events.ts';
import { buildTopology, EXCHANGES, QUEUES, routingHeadersFor } from '../../../shared/topology/topology.ts';
import type { ExchangeSpec, Topology } from '../../../shared/topology/types.ts';
import { AuditStore } from '../../../solutions/services/audit/audit-store.ts';
import { NotificationStore } from '../../../solutions/services/notification/notification-store.ts';
import { type CheckContext, CheckFailure, defineChecks, expectThat } from '../../check.ts';
import { bindingsOf, compareBindings, describeDiff, isEmptyDiff } from '../../checks/bindings-support.ts';
import { callTimeout, ignoreErrorsTheCheckReports, waitFor } from '../../checks/support.ts';
import { declareQueues, publishAll, startServices, subscribersOf, whereDidTheyGo } from '../../checks/topology-support.ts';
import { TRAIL_OF } from '../../../shared/messages/order-trail.ts';

// Messages stay where they land (no TTLs on these checks' queues), so a check can count them.
const TOPOLOGY = buildTopology({ retryDelayMs: 60_000, maxAttempts: 3, notificationTtlMs: 60_000, queueType: 'classic' });
const FANOUTS = TOPOLOGY.exchanges.filter((spec) => spec.type === 'fanout').map((spec) => spec.name);
/** The headers the order service publishes an express order's event with: they decide whether it is texted. */
const expressHeaders = (type: EventType) => routingHeadersFor({ type, express: true });

/** The patterns order.exchange forwards to `exchange`, as the topology's bindings say them. */
const patternsTo = (exchange: string) =>
  TOPOLOGY.bindings.filter((b) => b.source === EXCHANGES.order && b.destination === exchange).map((b) => b.pattern);
const NOTIFIED = patternsTo(EXCHANGES.notification);
/** The audited families that are not notified (inventory.*, payment.*, ... saga.*), straight from the data. */
const OTHER_FAMILIES = patternsTo(EXCHANGES.audit).filter((pattern) => !NOTIFIED.includes(pattern));
/** Every known event type of each of those families; a family with none still gets one made-up event, so none goes unobserved. */
const OTHER_FAMILY_EVENTS = OTHER_FAMILIES.flatMap((pattern) => {
  const known = EVENT_TYPES.filter((type) => topicMatches(pattern, type));
  return known.length > 0 ? known : [pattern.replaceAll('*', 'any').replaceAll('#', 'any')];
});
/** 'inventory, payment and saga', from the patterns 'inventory.*', 'payment.*', 'saga.*'. */
function familyNames(patterns: string[]): string {
  const names = patterns.map((pattern) => pattern.replace(/\.[*#]$/, ''));
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

const list = (names: string[]) => (names.length === 0 ? 'no queue' : names.join(', '));
const sorted = (names: string[]) => [...names].sort();
const whyFailed = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Queues, the reference routes (layer 2), then the learner's declareFanout, as the runtime does.
 * `durable` declares everything exactly as the services do; `durableExchanges` only the exchanges.
 */
async function declareWithFanout(
  context: CheckContext<'fanout'>,
  options: { durable?: boolean; durableExchanges?: boolean; topology?: Topology } = {},
): Promise<ConfirmChannel> {
  const { topology = TOPOLOGY, durable = false, durableExchanges = durable } = options;
  const exchangeOptions = (spec: ExchangeSpec) => ({
    ...context.reference.durability.exchangeOptions(spec),
    ...(durableExchanges ? {} : { durable: false }),
  });
  const channel = await (await context.connect()).createConfirmChannel();
  ignoreErrorsTheCheckReports(channel);
  await declareQueues(channel, topology, context.reference, durable, context.settings.queueType);
  await context.reference.routing.declareRoutes(channel, topology, exchangeOptions);
  try {
    await context.layer.declareFanout(channel, topology, exchangeOptions);
  } catch (error) {
    if (error instanceof ExerciseNotWrittenError) throw error;
    throw new CheckFailure('declareFanout to declare the fanout exchanges and bindings without errors', `it failed: ${whyFailed(error)}`);
  }
  return channel;
}

interface ExchangeInfo {
  name: string;
  type: string;
  durable: boolean;
  auto_delete: boolean;
}

async function exchangesOf(context: CheckContext): Promise<Map<string, ExchangeInfo>> {
  const exchanges = await context.vhost.api.request<ExchangeInfo[]>('GET', `/exchanges/${encodeURIComponent(context.vhost.name)}`);
  return new Map(exchanges.map((exchange) => [exchange.name, exchange]));
}

/** Fails clearly when an exchange the check is about to publish to was not declared (publishing there would close the channel). */
async function requireExchanges(context: CheckContext, names: string[]): Promise<void> {
  const existing = await exchangesOf(context);
  const missing = names.filter((name) => !existing.has(name));
  expectThat(missing.length === 0, `declareFanout to declare ${list(names)}`, () => `no exchange named ${missing.join(', ')}`);
}

const TYPE_HINT = 'A fanout exchange is declared with the type fanout: only then does it ignore the key.';

/** The fanout exchanges declared with another type, as one cause (every check that meets it says it alike); undefined when all are fanout. */
function typeCause(exchanges: Map<string, ExchangeInfo>): { cause: string; hint: string } | undefined {
  const notFanout = FANOUTS.filter((name) => exchanges.has(name) && exchanges.get(name)?.type !== 'fanout').map(
    (name) => `${name} is a ${exchanges.get(name)?.type} exchange`,
  );
  return notFanout.length > 0
    ? { cause: `${notFanout.join(', ')}: it routes by key, and its bindings have the key ''`, hint: TYPE_HINT }
    : undefined;
}

const REVERSED_HINT = 'bindExchange takes the destination first: the exchange that receives the copies, then the exchange they come from.';

/**
 * The cause, when the vhost's bindings differ from the topology's (layer 2's and layer 3's together):
 * which are missing, which the topology does not have, which point the wrong way. Undefined when they agree.
 */
async function bindingCause(context: CheckContext): Promise<{ cause: string; hint?: string } | undefined> {
  const diff = compareBindings(await bindingsOf(context), TOPOLOGY.bindings, () => true);
  if (isEmptyDiff(diff)) return undefined;
  return { cause: describeDiff(diff), hint: diff.reversed.length > 0 ? REVERSED_HINT : undefined };
}

/** Publishes each message and checks the queues each one reached; a wrong answer says which bindings caused it. */
async function expectCopies(
  context: CheckContext<'fanout'>,
  exchange: string | ((id: string) => string),
  expectedFor: Record<string, string[]>,
  why: string,
  headersFor: Record<string, Record<string, unknown>> = {},
): Promise<void> {
  const channel = await declareWithFanout(context);
  const exchangeOf = typeof exchange === 'string' ? () => exchange : exchange;
  await requireExchanges(context, [...new Set(Object.keys(expectedFor).map(exchangeOf))]);
  const routingKey = (id: string) => (typeof exchange === 'string' ? id : 'any.key.at.all');
  await publishAll(
    channel,
    Object.keys(expectedFor).map((id) => ({ exchange: exchangeOf(id), routingKey: routingKey(id), id, headers: headersFor[id] })),
  );
  const reached = await whereDidTheyGo(channel, TOPOLOGY);
  const wrong = Object.entries(expectedFor).filter(([id, queues]) => (reached.get(id) ?? []).join() !== sorted(queues).join());
  const [first] = wrong;
  if (!first) return;
  const [id, queues] = first;
  const found = (await bindingCause(context)) ?? typeCause(await exchangesOf(context));
  const headers = headersFor[id] ? ` and the headers ${JSON.stringify(headersFor[id])}` : '';
  throw new CheckFailure(
    `a message published to ${exchangeOf(id)} with the key ${routingKey(id)}${headers} to reach ${list(sorted(queues))} (${why})`,
    `it reached ${list(reached.get(id) ?? [])}${wrong.length > 1 ? ` (and ${wrong.length - 1} more went wrong)` : ''}${found ? `; the cause: ${found.cause}` : ''}`,
    found?.hint,
    found?.cause,
  );
}

/** The events of an order that completes, in the order they happen. */
const ORDER_FLOW: string[] = TRAIL_OF.completed;

export const checks = defineChecks('fanout', [
  {
    id: '03.fanout-exchanges',
    name: 'the audit, notification, unroutable and dead-letter exchanges are durable fanout exchanges',
    hint: 'Every fanout exchange of topology.exchanges, declared as a fanout exchange with the options exchangeOptions(spec) gives.',
    async run(context) {
      await declareWithFanout(context, { durableExchanges: true });
      const exchanges = await exchangesOf(context);
      const wrongType = typeCause(exchanges);
      expectThat(!wrongType, `${list(FANOUTS)} to be fanout exchanges`, () => wrongType?.cause ?? '', wrongType?.hint, wrongType?.cause);
      for (const name of FANOUTS) {
        const exchange = exchanges.get(name);
        expectThat(exchange, `declareFanout to declare ${name}`, `there is no exchange ${name}`);
        expectThat(exchange.type === 'fanout', `${name} to be a fanout exchange`, `a ${exchange.type} exchange`);
        expectThat(
          exchange.durable,
          `${name} to be durable (declare it with exchangeOptions(spec))`,
          'a transient exchange: it would vanish with a broker restart',
        );
        expectThat(
          !exchange.auto_delete,
          `${name} not auto-delete (declare it with exchangeOptions(spec))`,
          'an auto-delete exchange: the broker deletes it when its last binding goes (a notification queue unbound or deleted), and what is published to it then is lost',
        );
      }
    },
  },
  {
    id: '03.order-events',
    name: 'an order status event reaches the audit queue and the email queue, and the SMS queue when its headers ask for a text',
    hint: "An event reaches the fanout exchanges only through exchange-to-exchange bindings from order.exchange; from notification.exchange, each channel's own binding: the email queue's, and the one to the SMS channel's exchange (README § Exchange-to-exchange bindings).",
    async run(context) {
      await expectCopies(
        context,
        EXCHANGES.order,
        {
          'order.paid': [QUEUES.audit, QUEUES.notificationEmail],
          'order.shipped': [QUEUES.audit, QUEUES.notificationEmail, QUEUES.notificationSms],
        },
        'audited, one email, and a text message only for the event worth one',
        { 'order.paid': expressHeaders('order.paid'), 'order.shipped': expressHeaders('order.shipped') },
      );
    },
  },
  {
    id: '03.other-families',
    name: `${familyNames(OTHER_FAMILIES)} events reach the audit queue, and no notification queue`,
    hint: 'One exchange-to-exchange binding per pattern of topology.bindings: every family to the audit exchange, order.* only to notifications.',
    async run(context) {
      await expectCopies(
        context,
        EXCHANGES.order,
        Object.fromEntries(OTHER_FAMILY_EVENTS.map((type) => [type, [...subscribersOf(type), QUEUES.audit]])),
        'its subscribers and the audit log',
      );
    },
  },
  {
    id: '03.unroutable',
    name: 'an event of an unknown family (refund.issued) is not audited: it lands in unroutable.queue',
    hint: "The patterns of topology.bindings as they are (payment.*, not #), and unroutable.queue bound to unroutable.exchange: order.exchange's alternate exchange delivers there.",
    async run(context) {
      await expectCopies(
        context,
        EXCHANGES.order,
        { 'refund.issued': [QUEUES.unroutable] },
        'no binding wants it, so the alternate exchange catches it',
      );
    },
  },
  {
    id: '03.key-ignored',
    name: 'each fanout exchange copies a message to every queue bound to it, whatever the routing key',
    hint: 'Every queue bound to a fanout exchange in topology.bindings, unroutable.queue and dead-letter.queue included: a fanout exchange ignores the key.',
    async run(context) {
      const boundTo = (exchange: string) =>
        TOPOLOGY.bindings.filter((b) => b.source === exchange && b.destinationKind === 'queue').map((b) => b.destination);
      await expectCopies(
        context,
        (id) => id,
        Object.fromEntries(FANOUTS.map((exchange) => [exchange, boundTo(exchange)])),
        'every queue bound to it',
      );
    },
  },
  {
    id: '03.bindings',
    name: 'declareFanout declares every binding layer 2 leaves out, each pointing the right way, and no other',
    hint: 'Each binding of topology.bindings from a fanout exchange or to an exchange, with its source, destination and pattern as the data says them.',
    async run(context) {
      await declareWithFanout(context);
      const found = await bindingCause(context);
      expectThat(
        found === undefined,
        "the vhost's bindings to be exactly the topology's (layer 2's and yours)",
        () => found?.cause ?? '',
        found?.hint,
        found?.cause,
      );
    },
  },
  {
    id: '03.in-the-system',
    name: 'with your fanout, an express order completes, every event of it is audited, and the customer gets emails and text messages',
    hint: 'The audit service reads audit.queue and the notification service reads both notification queues: each needs the exchange-to-exchange bindings that lead to it, and its queue binding.',
    timeoutMs: 10_000,
    async run(context) {
      // Declare once up front: a broken declareFanout fails here at once, instead of services retrying their setup.
      await declareWithFanout(context, { durable: true, topology: context.topology });
      // What the services need is on the broker now: when it is not, say so at once rather than wait for an audit trail that cannot come.
      const exchanges = await exchangesOf(context);
      const missing = FANOUTS.filter((name) => !exchanges.has(name));
      expectThat(missing.length === 0, `${list(FANOUTS)} to be declared`, () => `no exchange named ${missing.join(', ')}`);
      const wrongType = typeCause(exchanges);
      expectThat(!wrongType, `${list(FANOUTS)} to be fanout exchanges`, () => wrongType?.cause ?? '', wrongType?.hint, wrongType?.cause);
      const found = await bindingCause(context);
      expectThat(
        found === undefined,
        'the bindings the audit and notification services need',
        () => `${found?.cause}: some events would reach neither the audit log nor the customer`,
        found?.hint,
        found?.cause,
      );
      const services = await startServices(context, ['order', 'inventory', 'payment', 'shipping', 'audit', 'notification']);
      const orderId = `fanout-${Math.random().toString(36).slice(2, 8)}`;
      const placed = await fetch(`http://127.0.0.1:${services.order.httpPort}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        // Express: only an express order's events ask for text messages (their headers).
        body: JSON.stringify({ orderId, user: 'gayal', items: ['item1'], express: true }),
        signal: callTimeout(5000, 'POST /orders'),
      });
      expectThat(placed.status === 201, 'POST /orders to answer 201', () => `HTTP ${placed.status}`);

      const audit = new AuditStore(services.audit.db);
      let trail: string[] = [];
      await waitFor(
        () => {
          trail = audit.forOrder(orderId).map((entry) => entry.type);
          return ORDER_FLOW.every((type) => trail.includes(type)) || undefined;
        },
        `the audit log of order ${orderId} to hold all ${ORDER_FLOW.length} events of its way to completed`,
        () =>
          `it holds ${trail.join(', ') || 'nothing'}${trail.length > 0 ? `; missing ${ORDER_FLOW.filter((type) => !trail.includes(type)).join(', ')}` : ''}`,
        5000,
      );

      const notifications = new NotificationStore(services.notification.db);
      const sent = (channel: 'email' | 'sms') =>
        notifications
          .sentFor(orderId)
          .filter((n) => n.channel === channel)
          .map((n) => n.event);
      await waitFor(
        () => (sent('email').includes('order.completed') && sent('sms').includes('order.completed')) || undefined,
        'an email and a text message saying the order was delivered (order.completed)',
        () => `emails for ${sent('email').join(', ') || 'nothing'}; text messages for ${sent('sms').join(', ') || 'nothing'}`,
        2000,
      );
    },
  },
]);
