// Payments, in the payment service's own database: one per order.
import type { ServiceDatabase } from '../../runtime/database.ts';

export interface Payment {
  orderId: string;
  paymentId: string;
  amount: number;
  status: 'paid' | 'declined';
  reason: string | null;
  createdAt: string;
}

export function migratePayments(db: ServiceDatabase): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS payments (
      order_id TEXT PRIMARY KEY,
      payment_id TEXT NOT NULL,
      amount INTEGER NOT NULL,
      status TEXT NOT NULL,
      reason TEXT,
      created_at TEXT NOT NULL
    );
  `);
}

export class PaymentStore {
  constructor(private readonly db: ServiceDatabase) {}

  find(orderId: string): Payment | undefined {
    return this.db
      .prepare<[string], Payment>(
        'SELECT order_id AS orderId, payment_id AS paymentId, amount, status, reason, created_at AS createdAt FROM payments WHERE order_id = ?',
      )
      .get(orderId);
  }

  insert(payment: Omit<Payment, 'createdAt'>): void {
    this.db
      .prepare('INSERT INTO payments (order_id, payment_id, amount, status, reason, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(payment.orderId, payment.paymentId, payment.amount, payment.status, payment.reason, new Date().toISOString());
  }
}
