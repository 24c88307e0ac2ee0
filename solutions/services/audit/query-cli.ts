// `npm run audit -- [orderId]`: prints the audit log (one order's events, or the latest 50).
import path from 'node:path';
import Database from 'better-sqlite3';
import { readEnv } from '../../../shared/config.ts';
import { AuditStore } from './audit-store.ts';

const file = path.join(readEnv().DATA_DIR, 'audit.sqlite');
let db: Database.Database;
try {
  db = new Database(file, { readonly: true, fileMustExist: true });
} catch {
  console.error(`No audit log at ${file} yet: start the system (npm start) and place an order first.`);
  process.exit(1);
}
const orderId = process.argv[2];
const store = new AuditStore(db);
const entries = orderId ? store.forOrder(orderId) : store.latest(50);
if (entries.length === 0) console.log(orderId ? `No events for order ${orderId}.` : 'The audit log is empty.');
for (const entry of entries) console.log(`${entry.occurredAt}  ${entry.type.padEnd(22)} order ${entry.orderId}  from ${entry.source}  (${entry.messageId})`);
db.close();
