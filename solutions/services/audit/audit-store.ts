// The audit log: every event, once, in the order it was received. Kept in the audit service's own
// database; query it with `npm run audit -- <orderId>` or AuditStore.
import type { DomainEvent } from '../../../shared/messages/events.ts';
import type { ServiceDatabase } from '../../runtime/database.ts';

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
  `);
}

const SELECT = 'SELECT message_id AS messageId, type, order_id AS orderId, source, occurred_at AS occurredAt, recorded_at AS recordedAt, body FROM audit_log';

export class AuditStore {
  constructor(private readonly db: ServiceDatabase) {}

  record(event: Pick<DomainEvent, 'messageId' | 'type' | 'orderId' | 'source' | 'occurredAt'>): void {
    this.db
      .prepare('INSERT OR IGNORE INTO audit_log (message_id, type, order_id, source, occurred_at, recorded_at, body) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(event.messageId, event.type, event.orderId, event.source, event.occurredAt, new Date().toISOString(), JSON.stringify(event));
  }

  forOrder(orderId: string): AuditEntry[] {
    return this.db.prepare<[string], AuditEntry>(`${SELECT} WHERE order_id = ? ORDER BY id`).all(orderId);
  }

  latest(limit: number): AuditEntry[] {
    return this.db.prepare<[number], AuditEntry>(`${SELECT} ORDER BY id DESC LIMIT ?`).all(limit).reverse();
  }
}
