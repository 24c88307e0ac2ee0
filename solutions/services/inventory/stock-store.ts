// Stock levels and per-order reservations, in the inventory service's own database.
// available = on_hand - reserved. Reserving holds stock for an order until payment commits or
// releases it.
import type { OrderItem } from '../../../shared/messages/events.ts';
import type { ServiceDatabase } from '../../runtime/database.ts';
import type { StallFinder } from '../../runtime/stall-watch.ts';
import { STARTING_CATALOGUE } from './catalogue.ts';

export type ReservationState = 'reserved' | 'committed' | 'released';

export interface StockLevel {
  sku: string;
  priceCents: number;
  onHand: number;
  reserved: number;
}

export function migrateStock(db: ServiceDatabase): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS stock (
      sku TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      price_cents INTEGER NOT NULL,
      on_hand INTEGER NOT NULL CHECK (on_hand >= 0),
      reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND reserved <= on_hand)
    );
    CREATE TABLE IF NOT EXISTS reservations (
      order_id TEXT PRIMARY KEY,
      items TEXT NOT NULL,
      state TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );
    -- The stall watch's sweep: stock held for an order, by how long it has been held.
    CREATE INDEX IF NOT EXISTS reservations_held_by_update ON reservations (updated_at) WHERE state = 'reserved';
  `);
  const empty = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM stock').get()?.n === 0;
  if (empty) {
    const insert = db.prepare('INSERT INTO stock (sku, name, price_cents, on_hand) VALUES (?, ?, ?, ?)');
    db.transaction(() => STARTING_CATALOGUE.forEach((p) => insert.run(p.sku, p.name, p.priceCents, p.onHand)))();
  }
}

export class StockStore {
  constructor(private readonly db: ServiceDatabase) {}

  level(sku: string): StockLevel | undefined {
    return this.db
      .prepare<[string], StockLevel>('SELECT sku, price_cents AS priceCents, on_hand AS onHand, reserved FROM stock WHERE sku = ?')
      .get(sku);
  }

  /** Sets a product's stock (tests and demos); creates it when new. */
  setStock(sku: string, onHand: number, priceCents = 1000): void {
    this.db
      .prepare(
        'INSERT INTO stock (sku, name, price_cents, on_hand) VALUES (?, ?, ?, ?) ON CONFLICT(sku) DO UPDATE SET on_hand = excluded.on_hand, price_cents = excluded.price_cents',
      )
      .run(sku, sku, priceCents, onHand);
  }

  reservation(orderId: string): { items: OrderItem[]; state: ReservationState } | undefined {
    const row = this.db
      .prepare<[string], { items: string; state: ReservationState }>('SELECT items, state FROM reservations WHERE order_id = ?')
      .get(orderId);
    return row && { items: JSON.parse(row.items) as OrderItem[], state: row.state };
  }

  reserve(orderId: string, items: OrderItem[]): void {
    const hold = this.db.prepare('UPDATE stock SET reserved = reserved + ? WHERE sku = ?');
    for (const item of items) hold.run(item.quantity, item.sku);
    this.saveReservation(orderId, items, 'reserved');
  }

  /** Payment went through: the reserved units leave the shelf. */
  commit(orderId: string, items: OrderItem[]): void {
    const take = this.db.prepare('UPDATE stock SET reserved = reserved - ?, on_hand = on_hand - ? WHERE sku = ?');
    for (const item of items) take.run(item.quantity, item.quantity, item.sku);
    this.saveReservation(orderId, items, 'committed');
  }

  /** Payment failed: the reserved units are available again. */
  release(orderId: string, items: OrderItem[]): void {
    const free = this.db.prepare('UPDATE stock SET reserved = reserved - ? WHERE sku = ?');
    for (const item of items) free.run(item.quantity, item.sku);
    this.saveReservation(orderId, items, 'released');
  }

  private saveReservation(orderId: string, items: OrderItem[], state: ReservationState): void {
    this.db
      .prepare(
        'INSERT INTO reservations (order_id, items, state, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(order_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at',
      )
      .run(orderId, JSON.stringify(items), state, new Date().toISOString());
  }
}

/** Reservations neither committed nor released, held through the window: the payment's verdict never arrived. */
export const findStalledReservations: StallFinder = (db, { quietSince, notBefore, limit }) =>
  db
    .prepare<[string, string, number], { order_id: string; updated_at: string }>(
      "SELECT order_id, updated_at FROM reservations WHERE state = 'reserved' AND updated_at < ? AND updated_at >= ? ORDER BY updated_at LIMIT ?",
    )
    .all(quietSince.toISOString(), notBefore.toISOString(), limit)
    .map((row) => ({ orderId: row.order_id, reason: `stock reserved since ${row.updated_at}, never committed or released` }));
