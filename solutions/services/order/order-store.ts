// Orders and their history, in the order service's own database.
import type { OrderItem } from '../../../shared/messages/events.ts';
import type { ServiceDatabase } from '../../runtime/database.ts';
import type { StallFinder } from '../../runtime/stall-watch.ts';

export type OrderStatus = 'pending' | 'paid' | 'shipped' | 'completed' | 'rejected' | 'failed';
export const TERMINAL_STATUSES: readonly OrderStatus[] = ['completed', 'rejected', 'failed'];

export interface Order {
  orderId: string;
  user: string;
  items: OrderItem[];
  express: boolean;
  status: OrderStatus;
  createdAt: string;
  updatedAt: string;
}

export interface OrderHistoryEntry {
  status: OrderStatus;
  /** The event the order service published for this step (order.created, order.paid, ...). */
  event: string;
  detail: string | null;
  at: string;
}

interface OrderRow {
  order_id: string;
  user: string;
  items: string;
  express: number;
  status: OrderStatus;
  created_at: string;
  updated_at: string;
}

export function migrateOrders(db: ServiceDatabase): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS orders (
      order_id TEXT PRIMARY KEY,
      user TEXT NOT NULL,
      items TEXT NOT NULL,
      express INTEGER NOT NULL,
      status TEXT NOT NULL,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS order_history (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      order_id TEXT NOT NULL REFERENCES orders(order_id),
      status TEXT NOT NULL,
      event TEXT NOT NULL,
      detail TEXT,
      at TEXT NOT NULL
    );
    -- Every GET /orders/:id reads an order's history: without this it scans every order's.
    CREATE INDEX IF NOT EXISTS order_history_by_order ON order_history (order_id, id);
    -- The stall watch's sweep: open orders by how long they have stood still.
    CREATE INDEX IF NOT EXISTS orders_open_by_update ON orders (updated_at) WHERE status IN ('pending', 'paid', 'shipped');
  `);
}

export class OrderStore {
  constructor(private readonly db: ServiceDatabase) {}

  find(orderId: string): Order | undefined {
    const row = this.db.prepare<[string], OrderRow>('SELECT * FROM orders WHERE order_id = ?').get(orderId);
    return (
      row && {
        orderId: row.order_id,
        user: row.user,
        items: JSON.parse(row.items) as OrderItem[],
        express: row.express === 1,
        status: row.status,
        createdAt: row.created_at,
        updatedAt: row.updated_at,
      }
    );
  }

  history(orderId: string): OrderHistoryEntry[] {
    return this.db
      .prepare<[string], OrderHistoryEntry>('SELECT status, event, detail, at FROM order_history WHERE order_id = ? ORDER BY id')
      .all(orderId);
  }

  insert(order: Pick<Order, 'orderId' | 'user' | 'items' | 'express'>): void {
    const now = new Date().toISOString();
    this.db
      .prepare('INSERT INTO orders (order_id, user, items, express, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(order.orderId, order.user, JSON.stringify(order.items), order.express ? 1 : 0, 'pending', now, now);
    this.appendHistory(order.orderId, 'pending', 'order.created', null, now);
  }

  setStatus(orderId: string, status: OrderStatus, event: string, detail: string | null = null): void {
    const now = new Date().toISOString();
    this.db.prepare('UPDATE orders SET status = ?, updated_at = ? WHERE order_id = ?').run(status, now, orderId);
    this.appendHistory(orderId, status, event, detail, now);
  }

  private appendHistory(orderId: string, status: OrderStatus, event: string, detail: string | null, at: string): void {
    this.db
      .prepare('INSERT INTO order_history (order_id, status, event, detail, at) VALUES (?, ?, ?, ?, ?)')
      .run(orderId, status, event, detail, at);
  }
}

/**
 * Orders not ended that have stood still in the window. A shipped order also waits for its delivery
 * confirmation: the simulated customer's delay on top, and for as long as the customer likes when
 * confirmation is manual (nothing is lost then: nothing is due).
 */
export const findStalledOrders: StallFinder = (db, { quietSince, notBefore, config, limit }) => {
  const rows = db
    .prepare<[string, string, number], { order_id: string; status: OrderStatus; express: number; updated_at: string }>(
      "SELECT order_id, status, express, updated_at FROM orders WHERE status IN ('pending', 'paid', 'shipped') AND updated_at < ? AND updated_at >= ? ORDER BY updated_at LIMIT ?",
    )
    .all(quietSince.toISOString(), notBefore.toISOString(), limit);
  const delay = config.deliveryDelayMs;
  return rows
    .filter((row) => row.status !== 'shipped' || (delay !== 'manual' && Date.parse(row.updated_at) < quietSince.getTime() - delay))
    .map((row) => ({ orderId: row.order_id, express: row.express === 1, reason: `${row.status} since ${row.updated_at}` }));
};
