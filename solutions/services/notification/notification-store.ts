// Who to notify, and every notification sent, in the notification service's own database.
import type { ServiceDatabase } from '../../runtime/database.ts';

export type NotificationChannel = 'email' | 'sms';

export interface SentNotification {
  channel: NotificationChannel;
  orderId: string;
  event: string;
  recipient: string;
  text: string;
  sentAt: string;
}

export function migrateNotifications(db: ServiceDatabase): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS customers (order_id TEXT PRIMARY KEY, user TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS notifications (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      channel TEXT NOT NULL,
      order_id TEXT NOT NULL,
      event TEXT NOT NULL,
      recipient TEXT NOT NULL,
      text TEXT NOT NULL,
      sent_at TEXT NOT NULL
    );
    -- sentFor and alreadySent look notifications up by order. Not UNIQUE: a database from before
    -- notifications were deduplicated may hold duplicates, and the index would then fail to build.
    CREATE INDEX IF NOT EXISTS notifications_by_order ON notifications (order_id, event, channel);
  `);
}

export class NotificationStore {
  constructor(private readonly db: ServiceDatabase) {}

  rememberCustomer(orderId: string, user: string): void {
    this.db.prepare('INSERT OR IGNORE INTO customers (order_id, user) VALUES (?, ?)').run(orderId, user);
  }

  customerOf(orderId: string): string | undefined {
    return this.db.prepare<[string], { user: string }>('SELECT user FROM customers WHERE order_id = ?').get(orderId)?.user;
  }

  /** Whether this order's `event` was already notified on `channel` (under whatever message id). */
  alreadySent(channel: NotificationChannel, orderId: string, event: string): boolean {
    return (
      this.db
        .prepare<[string, string, string], { found: number }>(
          'SELECT 1 AS found FROM notifications WHERE order_id = ? AND event = ? AND channel = ?',
        )
        .get(orderId, event, channel) !== undefined
    );
  }

  record(notification: Omit<SentNotification, 'sentAt'>): void {
    this.db
      .prepare('INSERT INTO notifications (channel, order_id, event, recipient, text, sent_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(
        notification.channel,
        notification.orderId,
        notification.event,
        notification.recipient,
        notification.text,
        new Date().toISOString(),
      );
  }

  sentFor(orderId: string): SentNotification[] {
    return this.db
      .prepare<[string], SentNotification>(
        'SELECT channel, order_id AS orderId, event, recipient, text, sent_at AS sentAt FROM notifications WHERE order_id = ? ORDER BY id',
      )
      .all(orderId);
  }
}
