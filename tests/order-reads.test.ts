// GET /orders/:id's read thread (solutions/services/order/order-reads.ts and order-read-worker.mjs):
// it answers byte for byte what the main thread's readOrder would, sees a commit made just before
// the read, and when it cannot run the main thread answers instead.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../shared/log.ts';
import { openServiceDatabase, type ServiceDatabase } from '../solutions/runtime/database.ts';
import { readOrderAnswer } from '../solutions/services/order/http-api.ts';
import { OrderReads } from '../solutions/services/order/order-reads.ts';
import { migrateOrders, OrderStore } from '../solutions/services/order/order-store.ts';

describe('OrderReads', () => {
  let db: ServiceDatabase | undefined;
  let reads: OrderReads | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await reads?.close();
    db?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  function open() {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'order-reads-'));
    db = openServiceDatabase(dir, 'order');
    migrateOrders(db);
    return { db, store: new OrderStore(db) };
  }

  it('answers as the main thread does, and sees what was committed just before', async () => {
    const { db, store } = open();
    const log = createMemoryLogger('order');
    let onMain = 0;
    reads = new OrderReads(db.name, (orderId) => (onMain++, readOrderAnswer(store, orderId)), log);
    expect(await reads.read('r-1')).toEqual({ status: 404, body: JSON.stringify({ error: 'no order r-1' }) });
    db.transaction(() => store.insert({ orderId: 'r-1', user: 'ada', items: [{ sku: 'item1', quantity: 2 }], express: true })).immediate();
    expect(await reads.read('r-1'), '🚨 a read right after the commit finds the order').toEqual(readOrderAnswer(store, 'r-1'));
    db.transaction(() => store.setStatus('r-1', 'paid', 'order.paid', 'charged')).immediate();
    const answer = await reads.read('r-1');
    expect(answer).toEqual(readOrderAnswer(store, 'r-1'));
    expect((JSON.parse(answer.body) as { history: unknown[] }).history).toHaveLength(2);
    expect(onMain, 'every read was answered by the read thread').toBe(0);
    expect(log.lines).toEqual([]);
  });

  it('falls back to the main thread when the read thread cannot open the database', async () => {
    const { db, store } = open();
    db.transaction(() => store.insert({ orderId: 'r-2', user: 'ada', items: [{ sku: 'item1', quantity: 1 }], express: false })).immediate();
    const log = createMemoryLogger('order');
    reads = new OrderReads(path.join(dir!, 'missing.sqlite'), (orderId) => readOrderAnswer(store, orderId), log);
    expect(await reads.read('r-2')).toEqual(readOrderAnswer(store, 'r-2'));
    expect(await reads.read('r-2')).toEqual(readOrderAnswer(store, 'r-2'));
    expect(log.lines.join('\n')).toContain('GET /orders/:id is answered on the main thread from now on');
  });
});
