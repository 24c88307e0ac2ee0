// Re-driving stalled orders. Every step of an order is a message, and on a cluster the broker can
// drop one: a quorum queue dead-letters at most once, so a retry or a delayed confirmation that
// dead-letters while a queue's leader is being elected can vanish (docs/architecture.md § Re-driving
// a stalled order). Nobody is then waiting for it, and the order stops moving.
//
// A service that can tell an order stopped (the order service: not ended; inventory: stock held and
// never settled; audit: a trail with gaps) publishes saga.stalled about it. Every service that
// publishes events subscribes to saga.stalled and sends again what its sent log (outbox.ts) holds
// about that order, under the same message ids: consumers that had a message skip it (layer 5's
// processOnce), the one whose copy was lost gets it. A few re-drives per order, further apart each
// time; then the watch says it gave up and leaves the order to an operator.
import { newEvent, type DomainEvent, type ServiceName } from '../../shared/messages/events.ts';
import { describeError, type Logger } from '../../shared/log.ts';
import type { ServiceDatabase } from './database.ts';
import type { ServiceConfig } from './service-config.ts';
import type { EventHandler } from './service-definition.ts';

export interface StalledOrder {
  orderId: string;
  /** What the service saw, in words: it travels in the event and the logs. */
  reason: string;
  express?: boolean;
}

export interface StallWindow {
  /** Candidates have been quiet since before this moment. */
  quietSince: Date;
  /** ...but not since before this one: older orders are past the sent log's reach. */
  notBefore: Date;
  config: ServiceConfig;
  /** At most this many, oldest first. */
  limit: number;
}

/** A service's own way to find its stalled orders (it runs inside a transaction, and may write). */
export type StallFinder = (db: ServiceDatabase, window: StallWindow) => StalledOrder[];

/** Re-drives one service asks for per order; the n-th waits n × STALL_AFTER_MS after the one before. */
export const MAX_REDRIVES = 3;
/** The sent log keeps messages this many times STALL_AFTER_MS: past the last re-drive (1 + 1 + 2 + 3 stalls at most). */
export const SENT_LOG_STALLS = 10;
const CANDIDATES_PER_SWEEP = 500;
/**
 * Requests per sweep, at most: when many orders look stalled at once, the cause is more likely an
 * overload than lost messages, and re-driving them all at once would add to it.
 */
export const REQUESTS_PER_SWEEP = 50;

/** The handler every publishing service gives saga.stalled: send again what was sent about the order. */
export const resendWhatWasSent: EventHandler<'saga.stalled'> = (event, { resend, log }) => {
  const count = resend();
  log.info(
    `order ${event.orderId} stalled (${event.payload.reason}; seen by ${event.source}, re-drive ${event.payload.attempt}): ${count} of its events sent again`,
  );
};

export interface StallWatchHost {
  readonly name: ServiceName;
  readonly db: ServiceDatabase;
  readonly log: Logger;
  readonly config: ServiceConfig;
  isBrokerConnected(): boolean;
  /** Queues the event in the outbox (inside the sweep's transaction). */
  enqueue(event: DomainEvent): number;
  /** Called after a sweep that queued requests. */
  nudge(): void;
  /** Counts one request (the service's metrics). */
  requested?(): void;
}

interface RequestRow {
  attempts: number;
  last_at: number;
}

export class StallWatch {
  private timer: NodeJS.Timeout | undefined;
  private connectedSince: number | undefined;
  private readonly sweepInTransaction: (now: number) => number;

  constructor(
    private readonly host: StallWatchHost,
    private readonly find: StallFinder,
    private readonly stallAfterMs: number,
  ) {
    const { db } = host;
    const requestOf = db.prepare<[string], RequestRow>('SELECT attempts, last_at FROM stall_requests WHERE order_id = ?');
    const saveRequest = db.prepare(
      'INSERT INTO stall_requests (order_id, attempts, last_at) VALUES (?, ?, ?) ON CONFLICT(order_id) DO UPDATE SET attempts = excluded.attempts, last_at = excluded.last_at',
    );
    this.sweepInTransaction = db.transaction((now: number) => {
      const candidates = find(db, {
        quietSince: new Date(now - stallAfterMs),
        notBefore: new Date(now - stallAfterMs * SENT_LOG_STALLS),
        config: host.config,
        limit: CANDIDATES_PER_SWEEP,
      });
      let requested = 0;
      for (const candidate of candidates) {
        if (requested >= REQUESTS_PER_SWEEP) break; // the rest at the next sweep
        const previous = requestOf.get(candidate.orderId);
        const attempts = previous?.attempts ?? 0;
        if (attempts >= MAX_REDRIVES) {
          if (attempts === MAX_REDRIVES) {
            saveRequest.run(candidate.orderId, attempts + 1, now); // says it once
            host.log.warn(
              `order ${candidate.orderId} is still stalled after ${MAX_REDRIVES} re-drives (${candidate.reason}): giving up; look for its messages in dead-letter.queue`,
            );
          }
          continue;
        }
        if (previous && now - previous.last_at < stallAfterMs * attempts) continue;
        saveRequest.run(candidate.orderId, attempts + 1, now);
        host.enqueue(
          newEvent('saga.stalled', {
            orderId: candidate.orderId,
            source: host.name,
            express: candidate.express,
            payload: { reason: candidate.reason, attempt: attempts + 1 },
          }) as DomainEvent,
        );
        host.requested?.();
        host.log.warn(
          `order ${candidate.orderId} looks stalled (${candidate.reason}): asked its publishers to send its events again (re-drive ${attempts + 1} of ${MAX_REDRIVES})`,
        );
        requested++;
      }
      return requested;
    });
  }

  start(): void {
    const every = Math.max(100, Math.min(5000, Math.round(this.stallAfterMs / 4)));
    this.timer = setInterval(() => this.sweep(), every);
    this.timer.unref();
  }

  /** Looks for stalled orders once; returns how many re-drives it asked for. */
  sweep(now = Date.now()): number {
    // While disconnected nothing moves anyway; after a (re)connect the backlog gets a stall's time to drain first.
    if (!this.host.isBrokerConnected()) {
      this.connectedSince = undefined;
      return 0;
    }
    this.connectedSince ??= now;
    if (now - this.connectedSince < this.stallAfterMs) return 0;
    try {
      const requested = this.sweepInTransaction(now);
      if (requested > 0) this.host.nudge();
      return requested;
    } catch (error) {
      this.host.log.warn(`could not look for stalled orders: ${describeError(error)}`); // the next sweep tries again
      return 0;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
