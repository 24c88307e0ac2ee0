// GET /orders/:id on a thread of its own (order-reads.ts starts it). Plain JavaScript, so it loads
// in a worker thread however the service runs (tsx, vitest, node). It has its own read-only
// connection to the order database: with WAL a reader never waits for the writer's commit nor makes
// it wait, and each answer reads the order and its history in one snapshot. It answers with the
// JSON text http-api.ts's readOrder would send; tests/order-reads.test.ts keeps the two the same.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

/** @type {{ file: string, findSql: string, historySql: string }} */
const { file, findSql, historySql } = workerData;
const db = new Database(file, { readonly: true, fileMustExist: true });
db.pragma('busy_timeout = 5000');
const find = db.prepare(findSql);
const history = db.prepare(historySql);

/** @param {string} orderId */
const readOrder = db.transaction((orderId) => {
  const row = find.get(orderId);
  if (!row) return { status: 404, body: JSON.stringify({ error: `no order ${orderId}` }) };
  const view = {
    orderId: row.order_id,
    user: row.user,
    items: JSON.parse(row.items),
    express: row.express === 1,
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    history: history.all(orderId),
  };
  return { status: 200, body: JSON.stringify(view) };
});

parentPort?.on('message', (/** @type {{ id: number, orderId: string }} */ request) => {
  try {
    parentPort?.postMessage({ id: request.id, ...readOrder(request.orderId) });
  } catch (error) {
    parentPort?.postMessage({ id: request.id, error: error instanceof Error ? error.message : String(error) });
  }
});
