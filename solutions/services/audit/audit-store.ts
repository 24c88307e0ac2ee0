// The audit log: every event, once, in the order it was received. Kept in the audit service's own
// database; query it with `npm run audit -- <orderId>` or AuditStore.
import type { DomainEvent } from '../../../shared/messages/events.ts';
import { gapsInTrail } from '../../../shared/messages/order-trail.ts';
import type { ServiceDatabase } from '../../runtime/database.ts';
import type { StallFinder } from '../../runtime/stall-watch.ts';

export interface AuditEntry {
  messageId: string;
  type: string;
  orderId: string;
  source: string;
  occurredAt: string;
  recordedAt: string;
  body: string;
}

export function migrateAudit(db: ServiceDatabase): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS audit_log (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      message_id TEXT NOT NULL UNIQUE,
      type TEXT NOT NULL,
      order_id TEXT NOT NULL,
      source TEXT NOT NULL,
      occurred_at TEXT NOT NULL,
      recorded_at TEXT NOT NULL,
      body TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS audit_log_by_order ON audit_log (order_id, id);
    -- One row per order: when its last event was logged, and whether its trail was found whole
    -- since (checked = 1). The stall watch looks only at the unchecked ones (findIncompleteTrails).
    CREATE TABLE IF NOT EXISTS audit_trails (
      order_id TEXT PRIMARY KEY,
      last_at TEXT NOT NULL,
      checked INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX IF NOT EXISTS audit_trails_unchecked ON audit_trails (last_at) WHERE checked = 0;
  `);
}

const SELECT =
  'SELECT message_id AS messageId, type, order_id AS orderId, source, occurred_at AS occurredAt, recorded_at AS recordedAt, body FROM audit_log';

export class AuditStore {
  constructor(private readonly db: ServiceDatabase) {}

  record(event: Pick<DomainEvent, 'messageId' | 'type' | 'orderId' | 'source' | 'occurredAt'>): void {
    const now = new Date().toISOString();
    const { changes } = this.db
      .prepare(
        'INSERT OR IGNORE INTO audit_log (message_id, type, order_id, source, occurred_at, recorded_at, body) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(event.messageId, event.type, event.orderId, event.source, event.occurredAt, now, JSON.stringify(event));
    if (changes === 0) return;
    this.db
      .prepare(
        'INSERT INTO audit_trails (order_id, last_at, checked) VALUES (?, ?, 0) ON CONFLICT(order_id) DO UPDATE SET last_at = excluded.last_at, checked = 0',
      )
      .run(event.orderId, now);
  }

  forOrder(orderId: string): AuditEntry[] {
    return this.db.prepare<[string], AuditEntry>(`${SELECT} WHERE order_id = ? ORDER BY id`).all(orderId);
  }

  latest(limit: number): AuditEntry[] {
    return this.db.prepare<[number], AuditEntry>(`${SELECT} ORDER BY id DESC LIMIT ?`).all(limit).reverse();
  }
}

/**
 * Trails that have stood still through the window and have gaps: a finished order (its order.completed,
 * .rejected or .failed is logged) without every event its outcome brings (order-trail.ts), or an
 * order that never finished as far as the log shows. A whole trail is marked checked until its next
 * event; so is one waiting for a customer's manual confirmation, where nothing is due.
 */
export const findIncompleteTrails: StallFinder = (db, { quietSince, notBefore, config, limit }) => {
  const candidates = db
    .prepare<[string, string, number], { order_id: string }>(
      'SELECT order_id FROM audit_trails WHERE checked = 0 AND last_at < ? AND last_at >= ? ORDER BY last_at LIMIT ?',
    )
    .all(quietSince.toISOString(), notBefore.toISOString(), limit);
  const typesOf = db.prepare<[string], { type: string }>('SELECT DISTINCT type FROM audit_log WHERE order_id = ?');
  const markChecked = db.prepare('UPDATE audit_trails SET checked = 1 WHERE order_id = ?');
  return candidates.flatMap(({ order_id: orderId }) => {
    const types = new Set(typesOf.all(orderId).map((row) => row.type));
    const { outcome, missing } = gapsInTrail(types);
    const waitsForCustomer =
      outcome === undefined && config.deliveryDelayMs === 'manual' && types.has('order.shipped') && !types.has('delivery.confirmed');
    if ((outcome !== undefined && missing.length === 0) || waitsForCustomer) {
      markChecked.run(orderId);
      return [];
    }
    return [
      {
        orderId,
        reason:
          outcome === undefined
            ? 'no order.completed, .rejected or .failed in the audit log'
            : `${outcome}, but the audit log lacks ${missing.join(', ')}`,
      },
    ];
  });
};
