// Each service keeps its state in its own SQLite file under DATA_DIR: state survives restarts, and
// the record of processed messages and the outbox live in the same database as the state, so one
// transaction covers "apply the message, remember it, queue what to publish".
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { ProcessedMessages } from '../../shared/layers/index.ts';

export type ServiceDatabase = Database.Database;

/** How a commit reaches the disk: 'full' fsyncs every commit, 'normal' only at WAL checkpoints. */
export type SqliteSynchronous = 'full' | 'normal';

export function openServiceDatabase(dataDir: string, service: string, synchronous: SqliteSynchronous = 'full'): ServiceDatabase {
  fs.mkdirSync(dataDir, { recursive: true });
  const db = new Database(path.join(dataDir, `${service}.sqlite`));
  // WAL lets a second process of the same service (a competing consumer) share the file;
  // busy_timeout makes writers wait for each other instead of failing.
  db.pragma('journal_mode = WAL');
  // FULL (the default): every commit is on disk (fsync) before it returns, so a message acked after
  // its commit survives a power loss too. better-sqlite3 is built with WAL_SYNCHRONOUS=1, so without
  // saying so a WAL database commits at NORMAL (fsync only at checkpoints: safe from a crashed
  // process, not from a crashed machine), although PRAGMA synchronous reads 2. SQLITE_SYNCHRONOUS=
  // normal chooses that on purpose; docs/performance.md measures both and says what NORMAL risks.
  db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  reusePreparedStatements(db);
  db.exec(`
    CREATE TABLE IF NOT EXISTS processed_messages (
      queue TEXT NOT NULL,
      message_id TEXT NOT NULL,
      processed_at TEXT NOT NULL,
      PRIMARY KEY (queue, message_id)
    );
    CREATE TABLE IF NOT EXISTS outbox (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      exchange TEXT NOT NULL,
      routing_key TEXT NOT NULL,
      content BLOB NOT NULL,
      options TEXT NOT NULL,
      created_at TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      last_error TEXT
    );
    -- What the relay published, kept a while (outbox.ts), to send again when an order stalls.
    CREATE TABLE IF NOT EXISTS sent_messages (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      order_id TEXT NOT NULL,
      exchange TEXT NOT NULL,
      routing_key TEXT NOT NULL,
      content BLOB NOT NULL,
      options TEXT NOT NULL,
      sent_at INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS sent_messages_by_order ON sent_messages (order_id);
    -- The re-drives this service asked for (stall-watch.ts), one row per order.
    CREATE TABLE IF NOT EXISTS stall_requests (
      order_id TEXT PRIMARY KEY,
      attempts INTEGER NOT NULL,
      last_at INTEGER NOT NULL
    );
  `);
  addColumnIfMissing(db, 'outbox', 'order_id', 'TEXT');
  return db;
}

/** Databases written before a column existed get it (CREATE TABLE IF NOT EXISTS leaves them as they are). */
function addColumnIfMissing(db: ServiceDatabase, table: string, column: string, type: string): void {
  const columns = db.prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${table}')`).all();
  if (!columns.some((existing) => existing.name === column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
}

/**
 * Makes `db.prepare(sql)` compile each SQL text once and hand back the same statement afterwards.
 * The stores prepare their statements where they use them, once per message; compiling costs more
 * than running the statement (docs/performance.md, the profile). Sharing is safe because nothing in
 * the services changes a statement's mode (pluck, raw, expand) or iterates with one.
 */
function reusePreparedStatements(db: ServiceDatabase): void {
  const compile = db.prepare.bind(db);
  const compiled = new Map<string, Database.Statement>();
  db.prepare = ((sql: string) => {
    let statement = compiled.get(sql);
    if (!statement) compiled.set(sql, (statement = compile(sql)));
    return statement;
  }) as ServiceDatabase['prepare'];
}

/** Runs `work` in a BEGIN IMMEDIATE transaction (one wrapper for every call, not one per call). */
function immediateTransaction(db: ServiceDatabase): <T>(work: () => T) => T {
  const run = db.transaction((work: () => unknown) => work()).immediate;
  return <T>(work: () => T) => run(work) as T;
}

/** The processed-message record for one queue (the same event may arrive on two queues of one service). */
export function processedMessagesFor(db: ServiceDatabase, queue: string): ProcessedMessages {
  const has = db.prepare<[string, string], { found: number }>(
    'SELECT 1 AS found FROM processed_messages WHERE queue = ? AND message_id = ?',
  );
  const record = db.prepare('INSERT INTO processed_messages (queue, message_id, processed_at) VALUES (?, ?, ?)');
  return {
    transaction: immediateTransaction(db),
    has: (messageId) => has.get(queue, messageId) !== undefined,
    record: (messageId) => {
      record.run(queue, messageId, new Date().toISOString());
    },
  };
}
