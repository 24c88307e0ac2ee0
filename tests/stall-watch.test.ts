// The parts of a re-drive that need no broker, on real SQLite files: when the stall watch asks (and
// when it stops asking), which orders each service finds stalled, and the outbox's sent log.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DomainEvent } from '../shared/messages/events.ts';
import { sampleEvent } from '../shared/messages/sample-events.ts';
import { createLogger } from '../shared/log.ts';
import { openServiceDatabase, type ServiceDatabase } from '../solutions/runtime/database.ts';
import { Outbox } from '../solutions/runtime/outbox.ts';
import type { ServiceConfig } from '../solutions/runtime/service-config.ts';
import { MAX_REDRIVES, REQUESTS_PER_SWEEP, StallWatch, type StallFinder, type StallWindow } from '../solutions/runtime/stall-watch.ts';
import { AuditStore, findIncompleteTrails, migrateAudit } from '../solutions/services/audit/audit-store.ts';
import { findStalledReservations, migrateStock, StockStore } from '../solutions/services/inventory/stock-store.ts';
import { findStalledOrders, migrateOrders } from '../solutions/services/order/order-store.ts';
import { systemConfig } from '../solutions/system.ts';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stall-watch-'));
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));
let files = 0;
const freshDatabase = (migrate: (db: ServiceDatabase) => void = () => {}) => {
  const db = openServiceDatabase(path.join(dataDir, String(files++)), 'order');
  migrate(db);
  return db;
};
const config = (overrides: Partial<ServiceConfig> = {}) => systemConfig({ brokerUrl: 'amqp://127.0.0.1', dataDir, config: overrides });
const lines: string[] = [];
const log = createLogger('order', { out: (line) => lines.push(line), err: (line) => lines.push(line) });

describe('the stall watch', () => {
  const STALL = 1000;
  const start = () => {
    const db = freshDatabase();
    const requests: DomainEvent[] = [];
    let connected = true;
    const find: StallFinder = () => [{ orderId: 'o-1', reason: 'pending since long ago', express: true }];
    const watch = new StallWatch(
      {
        name: 'order',
        db,
        log,
        config: config(),
        isBrokerConnected: () => connected,
        enqueue: (event) => requests.push(event),
        nudge: () => {},
      },
      find,
      STALL,
    );
    return { watch, requests, disconnect: () => (connected = false) };
  };

  it(`asks once per stall, each time further apart, at most ${MAX_REDRIVES} times, then says it gives up once`, () => {
    const { watch, requests } = start();
    const t0 = 1_000_000;
    expect(watch.sweep(t0), 'the first stall after connecting is the backlog’s to drain').toBe(0);
    expect(watch.sweep(t0 + STALL)).toBe(1);
    expect(watch.sweep(t0 + STALL + 10)).toBe(0);
    expect(watch.sweep(t0 + 2 * STALL)).toBe(1);
    expect(watch.sweep(t0 + 3 * STALL), 'the third waits two stalls after the second').toBe(0);
    expect(watch.sweep(t0 + 4 * STALL)).toBe(1);
    expect(watch.sweep(t0 + 100 * STALL)).toBe(0);
    expect(watch.sweep(t0 + 200 * STALL)).toBe(0);
    expect(
      requests.map((event) => [
        event.type,
        event.orderId,
        event.source,
        event.express,
        event.type === 'saga.stalled' && event.payload.attempt,
      ]),
    ).toEqual([
      ['saga.stalled', 'o-1', 'order', true, 1],
      ['saga.stalled', 'o-1', 'order', true, 2],
      ['saga.stalled', 'o-1', 'order', true, 3],
    ]);
    expect(lines.filter((line) => line.includes('order o-1 is still stalled after 3 re-drives'))).toHaveLength(1);
  });

  it(`asks for at most ${REQUESTS_PER_SWEEP} orders per sweep, the rest at the next`, () => {
    const db = freshDatabase();
    const requests: DomainEvent[] = [];
    const many = Array.from({ length: REQUESTS_PER_SWEEP + 10 }, (_, i) => ({ orderId: `o-${i}`, reason: 'paid since long ago' }));
    const watch = new StallWatch(
      {
        name: 'order',
        db,
        log,
        config: config(),
        isBrokerConnected: () => true,
        enqueue: (event) => requests.push(event),
        nudge: () => {},
      },
      () => many,
      STALL,
    );
    watch.sweep(0);
    expect(watch.sweep(STALL)).toBe(REQUESTS_PER_SWEEP);
    expect(watch.sweep(STALL + 100)).toBe(10);
    expect(new Set(requests.map((event) => event.orderId)).size).toBe(REQUESTS_PER_SWEEP + 10);
  });

  it('asks nothing while the broker is away, and gives the backlog a stall’s time after it is back', () => {
    const { watch, requests, disconnect } = start();
    watch.sweep(0);
    disconnect();
    expect(watch.sweep(5 * STALL)).toBe(0);
    expect(requests).toEqual([]);
  });
});

describe('which orders each service finds stalled', () => {
  const window = (overrides: Partial<StallWindow> = {}): StallWindow => ({
    quietSince: new Date('2026-12-01T12:01:00.000Z'),
    notBefore: new Date('2026-12-01T11:50:00.000Z'),
    config: config({ deliveryDelayMs: 1500 }),
    limit: 100,
    ...overrides,
  });
  const at = (iso: string) => iso;

  it('order: not ended and still since before quietSince, a shipped one its delivery delay longer, none when confirmation is manual', () => {
    const db = freshDatabase(migrateOrders);
    const insert = db.prepare(
      'INSERT INTO orders (order_id, user, items, express, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    const rows: Array<[string, string, string]> = [
      ['pending-old', 'pending', at('2026-12-01T12:00:00.000Z')],
      ['paid-old', 'paid', at('2026-12-01T12:00:30.000Z')],
      ['pending-new', 'pending', at('2026-12-01T12:01:30.000Z')],
      ['pending-ancient', 'pending', at('2026-12-01T11:00:00.000Z')],
      ['completed-old', 'completed', at('2026-12-01T12:00:00.000Z')],
      ['shipped-old', 'shipped', at('2026-12-01T12:00:00.000Z')],
      ['shipped-within-delay', 'shipped', at('2026-12-01T12:00:59.000Z')],
    ];
    for (const [id, status, updatedAt] of rows) insert.run(id, 'gayal', '[]', id === 'paid-old' ? 1 : 0, status, updatedAt, updatedAt);
    expect(findStalledOrders(db, window()).map((o) => [o.orderId, o.express, o.reason])).toEqual([
      ['pending-old', false, 'pending since 2026-12-01T12:00:00.000Z'],
      ['shipped-old', false, 'shipped since 2026-12-01T12:00:00.000Z'],
      ['paid-old', true, 'paid since 2026-12-01T12:00:30.000Z'],
    ]);
    expect(findStalledOrders(db, window({ config: config({ deliveryDelayMs: 'manual' }) })).map((o) => o.orderId)).toEqual([
      'pending-old',
      'paid-old',
    ]);
    expect(findStalledOrders(db, window({ limit: 1 })).map((o) => o.orderId)).toEqual(['pending-old']);
    const plan = db
      .prepare<[], { detail: string }>(
        "EXPLAIN QUERY PLAN SELECT order_id FROM orders WHERE status IN ('pending', 'paid', 'shipped') AND updated_at < '1' AND updated_at >= '0' ORDER BY updated_at LIMIT 1",
      )
      .all();
    expect(plan.map((row) => row.detail).join(' '), 'the sweep reads the partial index, not every order').toContain(
      'orders_open_by_update',
    );
  });

  it('inventory: stock still reserved, neither committed nor released', () => {
    const db = freshDatabase(migrateStock);
    const store = new StockStore(db);
    store.setStock('sku-1', 10);
    store.reserve('held', [{ sku: 'sku-1', quantity: 1 }]);
    store.reserve('committed', [{ sku: 'sku-1', quantity: 1 }]);
    store.commit('committed', [{ sku: 'sku-1', quantity: 1 }]);
    store.reserve('released', [{ sku: 'sku-1', quantity: 1 }]);
    store.release('released', [{ sku: 'sku-1', quantity: 1 }]);
    const soon = window({ quietSince: new Date(Date.now() + 60_000), notBefore: new Date(Date.now() - 60_000) });
    expect(findStalledReservations(db, soon).map((o) => o.orderId)).toEqual(['held']);
    expect(findStalledReservations(db, soon)[0]?.reason).toMatch(/^stock reserved since .*, never committed or released$/);
    expect(findStalledReservations(db, window({ quietSince: new Date(Date.now() - 60_000), notBefore: new Date(0) }))).toEqual([]);
  });

  it('audit: a finished trail with gaps, or one that never finished; whole ones are checked off until their next event', () => {
    const db = freshDatabase(migrateAudit);
    const audit = new AuditStore(db);
    const record = (orderId: string, ...types: Parameters<typeof sampleEvent>[0][]) =>
      types.forEach((type) => audit.record(sampleEvent(type, { orderId })));
    record('whole', 'order.created', 'inventory.out_of_stock', 'order.rejected');
    record('gap', 'order.created', 'inventory.reserved', 'inventory.released', 'order.failed');
    record('unfinished', 'order.created', 'inventory.reserved');
    record(
      'waits-for-customer',
      'order.created',
      'inventory.reserved',
      'payment.success',
      'inventory.committed',
      'order.paid',
      'shipping.prepared',
      'order.shipped',
    );
    const soon = window({ quietSince: new Date(Date.now() + 60_000), notBefore: new Date(Date.now() - 60_000) });
    const found = (w: StallWindow) => Object.fromEntries(findIncompleteTrails(db, w).map((o) => [o.orderId, o.reason]));
    expect(found(soon)).toEqual({
      gap: 'failed, but the audit log lacks payment.failed',
      unfinished: 'no order.completed, .rejected or .failed in the audit log',
      'waits-for-customer': 'no order.completed, .rejected or .failed in the audit log',
    });
    const manual = window({ ...soon, config: config({ deliveryDelayMs: 'manual' }) });
    expect(Object.keys(found(manual))).toEqual(['gap', 'unfinished']);
    record('gap', 'payment.failed');
    expect(Object.keys(found(manual))).toEqual(['unfinished']);
    record('whole', 'saga.stalled');
    expect(Object.keys(found(manual)), 'a new event re-opens a trail; still whole').toEqual(['unfinished']);
  });
});

describe('the sent log', () => {
  const message = (type: string) => ({ content: Buffer.from(type), options: { messageId: `id-${type}`, type } });

  it('keeps what was published about an order, queues it again byte for byte, does not log the copies, and forgets after keepSentMs', async () => {
    const db = freshDatabase();
    const outbox = new Outbox(db, log, 60_000);
    const published: Array<[string, string, string]> = [];
    outbox.add({ exchange: 'order.exchange', routingKey: 'order.created', message: message('order.created'), orderId: 'o-1' });
    outbox.add({
      exchange: '',
      routingKey: 'shipping.delivery-delay.queue',
      message: { ...message('delivery.confirmed'), options: { ...message('delivery.confirmed').options, expiration: '1500' } },
      orderId: 'o-1',
    });
    outbox.add({ exchange: 'order.exchange', routingKey: 'order.created', message: message('other'), orderId: 'o-2' });
    outbox.add({ exchange: 'order.exchange', routingKey: 'saga.stalled', message: message('saga.stalled') });
    outbox.attach(async (exchange, routingKey, sent) => {
      published.push([exchange, routingKey, `${sent.content.toString()} ${JSON.stringify(sent.options)}`]);
    });
    expect(await outbox.flush(5000)).toBe(true);
    const firstRound = [...published];
    expect(firstRound).toHaveLength(4);

    published.length = 0;
    expect(db.transaction(() => outbox.resend('o-1'))()).toBe(2);
    expect(await outbox.flush(5000)).toBe(true);
    expect(published, 'the same exchange, key, body and properties (message id and expiration too), in the first order').toEqual(
      firstRound.slice(0, 2),
    );
    expect(db.transaction(() => outbox.resend('o-1'))(), 'copies are not logged again').toBe(2);
    expect(db.transaction(() => outbox.resend('nobody'))()).toBe(0);
    await outbox.stop();
    expect(outbox.pruneSentLog(Date.now() + 30_000), 'younger than keepSentMs').toBe(0);
    expect(outbox.pruneSentLog(Date.now() + 120_000)).toBe(3);
    expect(db.transaction(() => outbox.resend('o-1'))()).toBe(0);
  });

  it('keeps nothing without keepSentMs', async () => {
    const db = freshDatabase();
    const outbox = new Outbox(db, log);
    outbox.add({ exchange: 'order.exchange', routingKey: 'order.created', message: message('order.created'), orderId: 'o-1' });
    outbox.attach(async () => {});
    expect(await outbox.flush(5000)).toBe(true);
    await outbox.stop();
    expect(db.transaction(() => outbox.resend('o-1'))()).toBe(0);
  });
});
