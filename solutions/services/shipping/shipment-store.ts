// Shipments, in the shipping service's own database: one per paid order.
import type { ServiceDatabase } from '../../runtime/database.ts';

export interface Shipment {
  orderId: string;
  shipmentId: string;
  status: 'prepared' | 'delivered';
  preparedAt: string;
  deliveredAt: string | null;
}

export function migrateShipments(db: ServiceDatabase): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS shipments (
      order_id TEXT PRIMARY KEY,
      shipment_id TEXT NOT NULL,
      status TEXT NOT NULL,
      prepared_at TEXT NOT NULL,
      delivered_at TEXT
    );
  `);
}

export class ShipmentStore {
  constructor(private readonly db: ServiceDatabase) {}

  find(orderId: string): Shipment | undefined {
    return this.db
      .prepare<[string], Shipment>(
        'SELECT order_id AS orderId, shipment_id AS shipmentId, status, prepared_at AS preparedAt, delivered_at AS deliveredAt FROM shipments WHERE order_id = ?',
      )
      .get(orderId);
  }

  prepare(orderId: string, shipmentId: string): void {
    this.db
      .prepare("INSERT INTO shipments (order_id, shipment_id, status, prepared_at) VALUES (?, ?, 'prepared', ?)")
      .run(orderId, shipmentId, new Date().toISOString());
  }

  markDelivered(orderId: string): void {
    this.db
      .prepare("UPDATE shipments SET status = 'delivered', delivered_at = ? WHERE order_id = ?")
      .run(new Date().toISOString(), orderId);
  }
}
