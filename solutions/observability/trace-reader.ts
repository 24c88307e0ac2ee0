// Reads one order's spans from the six services' spans files in a data directory, read-only (the
// services may be running: WAL lets readers in). What `npm run trace` and the dashboard show.
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { SERVICE_NAMES } from '../../shared/messages/events.ts';
import { readSpansOfOrder, spansFile, type StoredSpan } from './span-store.ts';

export function readOrderSpans(dataDir: string, orderId: string): StoredSpan[] {
  const spans: StoredSpan[] = [];
  for (const service of SERVICE_NAMES) {
    const file = spansFile(dataDir, service);
    if (!fs.existsSync(file)) continue;
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 2000');
      spans.push(...readSpansOfOrder(db, orderId));
    } finally {
      db.close();
    }
  }
  return spans.sort((a, b) => a.startUs - b.startUs);
}
