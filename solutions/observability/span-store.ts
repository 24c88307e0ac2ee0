// Where a service keeps its finished spans: a SQLite file of their own next to the service's state
// (`<service>.spans.sqlite`), so a learner sees a trace without running a tracing server (`npm run
// trace -- ORDER_ID` reads all six). A file apart, because spans must not compete with the service's
// transactions for its write lock, nor pay its fsync per commit: spans lost in a power cut are
// only spans. Written in batches, kept for a day.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';

export interface StoredSpan {
  spanId: string;
  traceId: string;
  parentSpanId: string | null;
  orderId: string | null;
  service: string;
  name: string;
  kind: string;
  /** Microseconds since the epoch. */
  startUs: number;
  durationUs: number;
  /** 'ok', or 'error: <message>'. */
  status: string;
  attributes: Record<string, unknown>;
}

/**
 * The events a span's own work published, in order (an attribute of that span: a delivery's, or the
 * request's that placed the order), with their exchanges, routing keys and message ids beside them
 * under the same prefix (tracing.ts, recordPublish).
 */
export const PUBLISHED_EVENTS_ATTRIBUTE = 'messaging.publish.event_types';

/** The events a stored span's work published (none for most). */
export function publishedEvents(span: StoredSpan): string[] {
  const value = span.attributes[PUBLISHED_EVENTS_ATTRIBUTE];
  return Array.isArray(value) ? value.map(String) : [];
}

interface SpanRow {
  span_id: string;
  trace_id: string;
  parent_span_id: string | null;
  order_id: string | null;
  service: string;
  name: string;
  kind: string;
  start_us: number;
  duration_us: number;
  status: string;
  attributes: string;
}

const RETENTION_US = 24 * 3600 * 1_000_000;

export function spansFile(dataDir: string, service: string): string {
  return path.join(dataDir, `${service}.spans.sqlite`);
}

function migrateSpans(db: BetterSqlite3.Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS spans (
      span_id TEXT PRIMARY KEY,
      trace_id TEXT NOT NULL,
      parent_span_id TEXT,
      order_id TEXT,
      service TEXT NOT NULL,
      name TEXT NOT NULL,
      kind TEXT NOT NULL,
      start_us INTEGER NOT NULL,
      duration_us INTEGER NOT NULL,
      status TEXT NOT NULL,
      attributes TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS spans_by_order ON spans (order_id);
    CREATE INDEX IF NOT EXISTS spans_by_trace ON spans (trace_id);
    CREATE INDEX IF NOT EXISTS spans_by_start ON spans (start_us);
  `);
}

const SPANS_OF_ORDER = 'SELECT * FROM spans WHERE trace_id IN (SELECT DISTINCT trace_id FROM spans WHERE order_id = ?) ORDER BY start_us';

/** Every span of every trace that touched the order, from any service's file (none if it has no spans table yet). */
export function readSpansOfOrder(db: BetterSqlite3.Database, orderId: string): StoredSpan[] {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'spans'").get();
  return table ? db.prepare<[string], SpanRow>(SPANS_OF_ORDER).all(orderId).map(fromRow) : [];
}

const fromRow = (row: SpanRow): StoredSpan => ({
  spanId: row.span_id,
  traceId: row.trace_id,
  parentSpanId: row.parent_span_id,
  orderId: row.order_id,
  service: row.service,
  name: row.name,
  kind: row.kind,
  startUs: row.start_us,
  durationUs: row.duration_us,
  status: row.status,
  attributes: JSON.parse(row.attributes) as Record<string, unknown>,
});

export class SpanStore {
  private readonly db: BetterSqlite3.Database;
  private readonly insertMany: (spans: StoredSpan[]) => void;
  private readonly prune;
  private readonly byOrder;

  constructor(dataDir: string, service: string) {
    fs.mkdirSync(dataDir, { recursive: true });
    const db = (this.db = new Database(spansFile(dataDir, service)));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = OFF');
    db.pragma('busy_timeout = 2000');
    migrateSpans(db);
    const insert = db.prepare(
      'INSERT OR REPLACE INTO spans (span_id, trace_id, parent_span_id, order_id, service, name, kind, start_us, duration_us, status, attributes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.insertMany = db.transaction((spans: StoredSpan[]) => {
      for (const s of spans)
        insert.run(
          s.spanId,
          s.traceId,
          s.parentSpanId,
          s.orderId,
          s.service,
          s.name,
          s.kind,
          s.startUs,
          s.durationUs,
          s.status,
          JSON.stringify(s.attributes),
        );
    });
    this.prune = db.prepare('DELETE FROM spans WHERE start_us < ?');
    this.byOrder = db.prepare<[string], SpanRow>(SPANS_OF_ORDER);
  }

  write(spans: StoredSpan[]): void {
    if (spans.length > 0) this.insertMany(spans);
  }

  /** Drops spans older than a day. */
  pruneOld(nowUs = Date.now() * 1000): void {
    this.prune.run(nowUs - RETENTION_US);
  }

  /** Every span of every trace that touched this order (in this service's file). */
  spansOfOrder(orderId: string): StoredSpan[] {
    return this.byOrder.all(orderId).map(fromRow);
  }

  close(): void {
    this.db.close();
  }
}
