// The transactional outbox. A handler never publishes directly: it writes the messages it wants
// published into the outbox table in the same transaction as its state change. The relay then
// publishes them with publisher confirms and deletes each row only after the broker confirmed it.
// So a crash between "state changed" and "event published" loses nothing: on restart the relay
// finds the rows and publishes them. The price is at-least-once delivery (a crash after the confirm
// but before the delete publishes a row twice), which idempotent consumers absorb.
//
// With a sent log (keepSentMs), a confirmed row about an order moves to sent_messages instead of
// vanishing, for keepSentMs. When an order stalls (stall-watch.ts), resend() queues those messages
// again, byte for byte and under the same message ids: consumers that had them skip them, and a
// consumer whose copy the broker dropped gets it at last.
//
// The deletes of confirmed rows commit without an fsync of their own (synchronous=NORMAL for that
// one transaction; the next FULL commit's fsync of the WAL carries them to disk). Losing one in a
// power cut only brings the row back: it is published again under the same message id, which
// idempotent consumers skip. It halves the fsyncs of a service that publishes (docs/performance.md).
import type { OutgoingMessage } from '../../shared/layers/index.ts';
import { describeError, type Logger } from '../../shared/log.ts';
import type { ServiceDatabase } from './database.ts';

export interface OutboxEntry {
  exchange: string;
  routingKey: string;
  message: OutgoingMessage;
  /** The order the message is about: once published it is kept in the sent log (when there is one) under this id. */
  orderId?: string;
}

export type ConfirmedPublish = (exchange: string, routingKey: string, message: OutgoingMessage) => Promise<void>;

interface OutboxRow {
  id: number;
  exchange: string;
  routing_key: string;
  content: Buffer;
  options: string;
}

const BATCH_SIZE = 100;
const POLL_INTERVAL_MS = 1000;
/** How often sent messages older than keepSentMs are deleted. */
const PRUNE_INTERVAL_MS = 60_000;

export class Outbox {
  private publish: ConfirmedPublish | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private addedSinceNudge = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly waiters = new Map<number, () => void>();
  private readonly insert;
  private readonly selectBatch;
  private readonly remove;
  private readonly recordFailure;
  private readonly count;
  private readonly oldest;
  private readonly removeConfirmed: (ids: number[]) => void;
  private readonly sentFor;
  private readonly pruneSent;
  private lastPrune = Date.now();

  /** keepSentMs: how long published messages about an order stay in the sent log; undefined keeps none. */
  constructor(
    private readonly db: ServiceDatabase,
    private readonly log: Logger,
    private readonly keepSentMs?: number,
  ) {
    this.insert = db.prepare(
      'INSERT INTO outbox (exchange, routing_key, content, options, created_at, order_id) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.selectBatch = db.prepare<[number], OutboxRow>(
      'SELECT id, exchange, routing_key, content, options FROM outbox ORDER BY id LIMIT ?',
    );
    this.remove = db.prepare('DELETE FROM outbox WHERE id = ?');
    this.recordFailure = db.prepare('UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?');
    this.count = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM outbox');
    this.oldest = db.prepare<[], { created_at: string }>('SELECT created_at FROM outbox ORDER BY id LIMIT 1');
    const keepSent = db.prepare(
      'INSERT INTO sent_messages (order_id, exchange, routing_key, content, options, sent_at) SELECT order_id, exchange, routing_key, content, options, ? FROM outbox WHERE id = ? AND order_id IS NOT NULL',
    );
    const removeTogether = db.transaction((ids: number[]) => {
      const now = Date.now();
      for (const id of ids) {
        if (keepSentMs !== undefined) keepSent.run(now, id);
        this.remove.run(id);
      }
    });
    // 2 is FULL: only then is there an fsync to spare (a database at NORMAL stays as it is).
    const full = db.pragma('synchronous', { simple: true }) === 2;
    this.removeConfirmed = full
      ? (ids) => {
          db.exec('PRAGMA synchronous = NORMAL');
          try {
            removeTogether(ids);
          } finally {
            db.exec('PRAGMA synchronous = FULL');
          }
        }
      : removeTogether;
    this.sentFor = db.prepare<[string], Omit<OutboxRow, 'id'>>(
      'SELECT exchange, routing_key, content, options FROM sent_messages WHERE order_id = ? ORDER BY id',
    );
    this.pruneSent = db.prepare('DELETE FROM sent_messages WHERE sent_at < ?');
  }

  /** Queues a message for publishing. Call it inside the transaction that changes the state. Returns the row id. */
  add(entry: OutboxEntry): number {
    this.addedSinceNudge = true;
    const result = this.insert.run(
      entry.exchange,
      entry.routingKey,
      entry.message.content,
      JSON.stringify(entry.message.options),
      new Date().toISOString(),
      entry.orderId ?? null,
    );
    return Number(result.lastInsertRowid);
  }

  /**
   * Queues again every message the sent log holds about the order, in the order they were first
   * published (call inside a transaction). The copies are not logged again. Returns how many.
   */
  resend(orderId: string): number {
    const rows = this.sentFor.all(orderId);
    if (rows.length > 0) this.addedSinceNudge = true;
    for (const row of rows) this.insert.run(row.exchange, row.routing_key, row.content, row.options, new Date().toISOString(), null);
    return rows.length;
  }

  pending(): number {
    return this.count.get()?.n ?? 0;
  }

  /** Seconds since the oldest row still waiting was written (0 when none waits): a relay that is stuck shows here first. */
  oldestAgeSeconds(): number {
    const row = this.oldest.get();
    return row ? Math.max(0, (Date.now() - Date.parse(row.created_at)) / 1000) : 0;
  }

  /** Starts relaying through a confirmed publish function (called again after every reconnect). */
  attach(publish: ConfirmedPublish): void {
    this.publish = publish;
    this.timer ??= setInterval(() => {
      this.nudge();
      this.pruneNowAndThen();
    }, POLL_INTERVAL_MS);
    this.timer.unref();
    this.nudge();
  }

  /** The channel is gone: rows stay in the table until the next attach. */
  detach(): void {
    this.publish = undefined;
  }

  /** Nudges the relay only if rows were added since the last nudge (a commit that queued nothing needs no relay run). */
  nudgeIfAdded(): void {
    if (this.addedSinceNudge) this.nudge();
  }

  /** Asks the relay to run now (after a commit that added rows). */
  nudge(): void {
    this.addedSinceNudge = false;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.relay().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.nudge();
      }
    });
  }

  /** Resolves true once row `id` is confirmed by the broker, false after timeoutMs. */
  waitForPublish(id: number, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(id);
        resolve(false);
      }, timeoutMs);
      this.waiters.set(id, () => {
        clearTimeout(timer);
        resolve(true);
      });
      this.nudge();
    });
  }

  /** Publishes what is left (used at shutdown). Resolves true when the outbox is empty. */
  async flush(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending() > 0 && this.publish && Date.now() < deadline) {
      this.nudge();
      await this.running;
      if (this.pending() > 0) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return this.pending() === 0;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.publish = undefined;
    await this.running;
  }

  /** Deletes sent messages older than keepSentMs (the poll timer does, once a minute); returns how many. */
  pruneSentLog(now = Date.now()): number {
    if (this.keepSentMs === undefined) return 0;
    this.lastPrune = now;
    return this.pruneSent.run(now - this.keepSentMs).changes;
  }

  private pruneNowAndThen(): void {
    if (this.keepSentMs === undefined || Date.now() - this.lastPrune < PRUNE_INTERVAL_MS) return;
    try {
      this.pruneSentLog();
    } catch (error) {
      this.log.warn(`could not prune the sent log: ${describeError(error)}`); // busy: the next round tries again
    }
  }

  private async relay(): Promise<void> {
    for (;;) {
      const publish = this.publish;
      if (!publish) return;
      const rows = this.selectBatch.all(BATCH_SIZE);
      if (rows.length === 0) return;
      // One channel keeps publish order; confirms for the whole batch are awaited together.
      const results = await Promise.allSettled(
        rows.map((row) => publish(row.exchange, row.routing_key, { content: row.content, options: JSON.parse(row.options) })),
      );
      const confirmed = rows.filter((_, index) => results[index]?.status === 'fulfilled');
      // One transaction for the batch's deletes: one commit (and one fsync) instead of one per row.
      this.removeConfirmed(confirmed.map((row) => row.id));
      for (const row of confirmed) {
        this.waiters.get(row.id)?.();
        this.waiters.delete(row.id);
      }
      let failed = false;
      results.forEach((result, index) => {
        if (result.status === 'fulfilled') return;
        const row = rows[index] as OutboxRow;
        failed = true;
        this.recordFailure.run(describeError(result.reason), row.id);
        this.log.warn(`could not publish ${row.routing_key} (outbox row ${row.id}), will retry: ${describeError(result.reason)}`);
      });
      if (failed) return; // the poll timer tries again in a second
    }
  }
}
