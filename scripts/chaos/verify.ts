// After the run, from what the services wrote: each service's SQLite file (opened read-only once
// they have stopped) and the broker's dead-letter and unroutable queues. Every accepted order is
// checked against the outcome it was planned for and against what each service did about it; any
// effect applied twice is named, and the stock must add up.
import path from 'node:path';
import Database from 'better-sqlite3';
import type { ManagementApi } from '../../shared/broker/management-api.ts';
import { PARK_HEADERS } from '../../shared/layers/06-dead-letters.ts';
import { type EventType, SERVICE_NAMES } from '../../shared/messages/events.ts';
import { TRAIL_OF } from '../../shared/messages/order-trail.ts';
import { QUEUES, TEXTED_EVENTS } from '../../shared/topology/topology.ts';
import { startingStock, type Outcome, type PlannedOrder } from './order-mix.ts';

/** The emails an order gets, as `channel event`: one per order event of its way. */
const EMAILED: Record<Outcome, string[]> = {
  completed: ['email order.created', 'email order.paid', 'email order.shipped', 'email order.completed'],
  rejected: ['email order.created', 'email order.rejected'],
  failed: ['email order.created', 'email order.failed'],
};
/** The notifications an order gets: its emails, and for an express order a text for each event worth one (TEXTED_EVENTS). */
function notificationsOf(outcome: Outcome, express: boolean): string[] {
  const texts = express
    ? EMAILED[outcome].map((kind) => kind.replace(/^email /, '')).filter((type) => TEXTED_EVENTS.includes(type as EventType))
    : [];
  return [...EMAILED[outcome], ...texts.map((type) => `sms ${type}`)];
}
const RESERVATION: Record<Outcome, string | undefined> = { completed: 'committed', rejected: undefined, failed: 'released' };
const PAYMENT: Record<Outcome, string | undefined> = { completed: 'paid', rejected: undefined, failed: 'declined' };
const SHIPMENT: Record<Outcome, string | undefined> = { completed: 'delivered', rejected: undefined, failed: undefined };

export interface Finding {
  orderId: string;
  what: string;
}

export interface Verdict {
  planned: number;
  accepted: number;
  right: number;
  /** Accepted, but the order service has no such order. */
  lost: Finding[];
  /** Not in a terminal status by the deadline. */
  stuck: Finding[];
  /** A terminal status other than planned, or a service's records that disagree with it. */
  wrong: Finding[];
  /** An effect that happened twice: an event published twice under two ids, two notifications of one kind, a status entered twice. */
  appliedTwice: Finding[];
  /** Events an order should have left in the audit log and did not: an event lost. */
  missingAudit: Finding[];
  /** Notifications an order should have had, did not, and that are not parked in the dead-letter queue either: lost. */
  missingNotifications: Finding[];
  /** Notifications not sent because their message was parked (notification queues park at the first failure, by design). */
  notificationsParked: number;
  outcomes: Record<Outcome, number>;
  stock: {
    consistent: boolean;
    reservedLeft: number;
    bySku: Array<{ sku: string; initial: number; committed: number; final: number; expectedCommitted: number }>;
  };
  /** Rows still waiting in a service's outbox after it stopped. */
  outboxLeft: Record<string, number>;
  deadLetters: { count: number; reasons: Record<string, number>; byQueue: Record<string, number> };
  unroutable: number;
  /** saga.stalled events in the audit log (stall-watch.ts): how many re-drives were asked for, for how many orders, and why (`service: reason`). */
  redrives?: { requests: number; orders: number; reasons?: Record<string, number> };
}

function open(dataDir: string, service: string): Database.Database {
  return new Database(path.join(dataDir, `${service}.sqlite`), { readonly: true, fileMustExist: true });
}

/** A reason without the ids and numbers that make each one unique, so alike reasons count together. */
function reasonKind(reason: string): string {
  return reason
    .replace(/order [^\s:,)]+/g, 'order <id>')
    .replace(/[0-9a-f]{8}-[0-9a-f-]{27,}/g, '<id>')
    .replace(/\d+/g, 'N')
    .slice(0, 160);
}

interface PeekedMessage {
  properties: { headers?: Record<string, unknown>; type?: string; correlation_id?: string };
}

export interface BrokerLeftovers {
  deadLetters: Verdict['deadLetters'];
  unroutable: number;
  /** `channel event orderId` of every parked notification. */
  parkedNotifications: Set<string>;
}

const CHANNEL_OF: Record<string, string> = { [QUEUES.notificationEmail]: 'email', [QUEUES.notificationSms]: 'sms' };

/** What is left in the dead-letter and unroutable queues (read, and put back: ackmode ack_requeue_true). */
export async function readBrokerLeftovers(api: ManagementApi): Promise<BrokerLeftovers> {
  const peek = (queue: string) =>
    api.request<PeekedMessage[]>('POST', `/queues/%2F/${encodeURIComponent(queue)}/get`, {
      count: 5000,
      ackmode: 'ack_requeue_true',
      encoding: 'auto',
      truncate: 100,
    });
  const parked = await peek(QUEUES.deadLetter);
  const reasons: Record<string, number> = {};
  const byQueue: Record<string, number> = {};
  const parkedNotifications = new Set<string>();
  for (const { properties } of parked) {
    const kind = reasonKind(String(properties.headers?.[PARK_HEADERS.reason] ?? 'no reason given'));
    reasons[kind] = (reasons[kind] ?? 0) + 1;
    const queue = String(properties.headers?.[PARK_HEADERS.queue] ?? 'unknown');
    byQueue[queue] = (byQueue[queue] ?? 0) + 1;
    const channel = CHANNEL_OF[queue];
    if (channel) parkedNotifications.add(`${channel} ${properties.type} ${properties.correlation_id}`);
  }
  return {
    deadLetters: { count: parked.length, reasons, byQueue },
    unroutable: (await peek(QUEUES.unroutable)).length,
    parkedNotifications,
  };
}

/** `openAtDeadline`: the orders that had not ended when the deadline passed (stuck, even if they ended during the final wait). */
export function verifyRun(
  dataDir: string,
  orders: PlannedOrder[],
  accepted: ReadonlySet<string>,
  leftovers: BrokerLeftovers,
  openAtDeadline: ReadonlySet<string> = new Set(),
): Verdict {
  const dbs = Object.fromEntries(SERVICE_NAMES.map((name) => [name, open(dataDir, name)])) as Record<
    (typeof SERVICE_NAMES)[number],
    Database.Database
  >;
  try {
    const verdict: Verdict = {
      planned: orders.length,
      accepted: accepted.size,
      right: 0,
      lost: [],
      stuck: [],
      wrong: [],
      appliedTwice: [],
      missingAudit: [],
      missingNotifications: [],
      notificationsParked: 0,
      outcomes: { completed: 0, rejected: 0, failed: 0 },
      stock: { consistent: true, reservedLeft: 0, bySku: [] },
      outboxLeft: {},
      deadLetters: leftovers.deadLetters,
      unroutable: leftovers.unroutable,
      redrives: { requests: 0, orders: 0, reasons: {} },
    };
    const statusOf = new Map(
      dbs.order
        .prepare<[], { order_id: string; status: string }>('SELECT order_id, status FROM orders')
        .all()
        .map((r) => [r.order_id, r.status]),
    );
    const historyTwice = dbs.order
      .prepare<[], { order_id: string; status: string; n: number }>(
        'SELECT order_id, status, COUNT(*) AS n FROM order_history GROUP BY order_id, status HAVING n > 1',
      )
      .all();
    const reservations = new Map(
      dbs.inventory
        .prepare<[], { order_id: string; state: string }>('SELECT order_id, state FROM reservations')
        .all()
        .map((r) => [r.order_id, r.state]),
    );
    const payments = new Map(
      dbs.payment
        .prepare<[], { order_id: string; status: string }>('SELECT order_id, status FROM payments')
        .all()
        .map((r) => [r.order_id, r.status]),
    );
    const shipments = new Map(
      dbs.shipping
        .prepare<[], { order_id: string; status: string }>('SELECT order_id, status FROM shipments')
        .all()
        .map((r) => [r.order_id, r.status]),
    );
    const audited = new Map<string, Map<string, number>>();
    for (const row of dbs.audit
      .prepare<[], { order_id: string; type: string; n: number }>(
        'SELECT order_id, type, COUNT(DISTINCT message_id) AS n FROM audit_log GROUP BY order_id, type',
      )
      .all()) {
      if (!audited.has(row.order_id)) audited.set(row.order_id, new Map());
      audited.get(row.order_id)?.set(row.type, row.n);
    }
    const notified = new Map<string, Map<string, number>>();
    for (const row of dbs.notification
      .prepare<[], { order_id: string; channel: string; event: string; n: number }>(
        'SELECT order_id, channel, event, COUNT(*) AS n FROM notifications GROUP BY order_id, channel, event',
      )
      .all()) {
      if (!notified.has(row.order_id)) notified.set(row.order_id, new Map());
      notified.get(row.order_id)?.set(`${row.channel} ${row.event}`, row.n);
    }

    const requests = dbs.audit
      .prepare<[], { order_id: string; source: string; body: string }>(
        "SELECT order_id, source, body FROM audit_log WHERE type = 'saga.stalled'",
      )
      .all();
    const redriveReasons: Record<string, number> = {};
    for (const request of requests) {
      const reason = String((JSON.parse(request.body) as { payload?: { reason?: unknown } }).payload?.reason);
      const why = `${request.source}: ${reasonKind(reason.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<time>'))}`;
      redriveReasons[why] = (redriveReasons[why] ?? 0) + 1;
    }
    verdict.redrives = {
      requests: requests.length,
      orders: new Set(requests.map((request) => request.order_id)).size,
      reasons: redriveReasons,
    };
    const expectedCommitted = new Map<string, number>();
    for (const order of orders) {
      if (!accepted.has(order.orderId)) continue;
      const { orderId, expected } = order;
      const status = statusOf.get(orderId);
      if (status === undefined) {
        verdict.lost.push({ orderId, what: 'accepted by POST /orders, unknown to the order service' });
        continue;
      }
      // Stock leaves the shelf when the payment succeeds: an order paid and not completed yet has moved it too.
      if (expected === 'completed' && ['paid', 'shipped', 'completed'].includes(status))
        for (const item of order.body.items) expectedCommitted.set(item.sku, (expectedCommitted.get(item.sku) ?? 0) + item.quantity);
      if (!['completed', 'rejected', 'failed'].includes(status)) {
        verdict.stuck.push({ orderId, what: `${status} at the deadline (planned: ${expected})` });
        continue;
      }
      if (openAtDeadline.has(orderId))
        verdict.stuck.push({
          orderId,
          what: `not ended at the deadline; ${status} later, while the queues were drained (planned: ${expected})`,
        });
      verdict.outcomes[status as Outcome]++;
      const problems: string[] = [];
      if (status !== expected) problems.push(`${status}, planned ${expected}`);
      if (reservations.get(orderId) !== RESERVATION[expected])
        problems.push(`reservation ${reservations.get(orderId) ?? 'none'}, expected ${RESERVATION[expected] ?? 'none'}`);
      if (payments.get(orderId) !== PAYMENT[expected])
        problems.push(`payment ${payments.get(orderId) ?? 'none'}, expected ${PAYMENT[expected] ?? 'none'}`);
      if (shipments.get(orderId) !== SHIPMENT[expected])
        problems.push(`shipment ${shipments.get(orderId) ?? 'none'}, expected ${SHIPMENT[expected] ?? 'none'}`);
      if (problems.length > 0) verdict.wrong.push({ orderId, what: problems.join('; ') });
      else if (!openAtDeadline.has(orderId)) verdict.right++;

      const events = audited.get(orderId) ?? new Map<string, number>();
      // saga.stalled is a request, not an effect: several (from several services, or again later) are expected.
      for (const [type, n] of events)
        if (n > 1 && type !== 'saga.stalled')
          verdict.appliedTwice.push({ orderId, what: `${type} published ${n} times under different message ids` });
      const notes = notified.get(orderId) ?? new Map<string, number>();
      for (const [kind, n] of notes) if (n > 1) verdict.appliedTwice.push({ orderId, what: `${n} notifications: ${kind}` });
      const missingEvents = TRAIL_OF[expected].filter((type) => !events.has(type));
      const missingNotes = notificationsOf(expected, order.body.express).filter((kind) => !notes.has(kind));
      const parked = missingNotes.filter((kind) => leftovers.parkedNotifications.has(`${kind} ${orderId}`));
      const unexplained = missingNotes.filter((kind) => !parked.includes(kind));
      verdict.notificationsParked += parked.length;
      if (missingEvents.length > 0) verdict.missingAudit.push({ orderId, what: `not in the audit log: ${missingEvents.join(', ')}` });
      if (unexplained.length > 0)
        verdict.missingNotifications.push({ orderId, what: `not notified, and not parked: ${unexplained.join(', ')}` });
    }
    for (const row of historyTwice)
      if (accepted.has(row.order_id)) verdict.appliedTwice.push({ orderId: row.order_id, what: `entered ${row.status} ${row.n} times` });

    // initial − committed = final for every sku, and nothing left reserved once every order ended.
    const committedBySku = new Map<string, number>();
    for (const row of dbs.inventory.prepare<[], { items: string }>("SELECT items FROM reservations WHERE state = 'committed'").all()) {
      for (const item of JSON.parse(row.items) as Array<{ sku: string; quantity: number }>)
        committedBySku.set(item.sku, (committedBySku.get(item.sku) ?? 0) + item.quantity);
    }
    const initial = startingStock();
    for (const row of dbs.inventory
      .prepare<[], { sku: string; on_hand: number; reserved: number }>('SELECT sku, on_hand, reserved FROM stock ORDER BY sku')
      .all()) {
      const committed = committedBySku.get(row.sku) ?? 0;
      const entry = {
        sku: row.sku,
        initial: initial.get(row.sku) ?? NaN,
        committed,
        final: row.on_hand,
        expectedCommitted: expectedCommitted.get(row.sku) ?? 0,
      };
      verdict.stock.bySku.push(entry);
      verdict.stock.reservedLeft += row.reserved;
      if (entry.initial - committed !== entry.final || committed !== entry.expectedCommitted) verdict.stock.consistent = false;
    }
    if (verdict.stock.reservedLeft !== 0) verdict.stock.consistent = false;
    for (const name of SERVICE_NAMES)
      verdict.outboxLeft[name] = dbs[name].prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM outbox').get()?.n ?? 0;
    return verdict;
  } finally {
    for (const db of Object.values(dbs)) db.close();
  }
}
