// Group commit. Each delivery's work (the processed-message check, the state change, the outbox
// rows) must be atomic and committed before the delivery is acked; a commit costs an fsync. So the
// deliveries that arrive within one turn of the event loop share one SQLite transaction, each in a
// savepoint of its own: a delivery that throws rolls back only its own work, and every delivery's
// promise settles only after the shared commit, so acks still come after the commit. A crash before
// the commit loses only unacked work, which the broker redelivers.
import type { ServiceDatabase } from './database.ts';

/** Deliveries per transaction at most (prefetch × workers bounds it in practice). */
const MAX_GROUP = 100;

interface Pending {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export class CommitGroup {
  private pending: Pending[] = [];
  private scheduled = false;
  private readonly commitTogether: (group: Pending[]) => Outcome[];

  constructor(
    db: ServiceDatabase,
    private readonly afterCommit: () => void,
  ) {
    // Called inside another transaction, a better-sqlite3 transaction function is a savepoint.
    const savepoint = db.transaction((work: () => unknown) => work());
    this.commitTogether = db.transaction((group: Pending[]) =>
      group.map((item): Outcome => {
        try {
          return { ok: true, value: savepoint(item.work) };
        } catch (error) {
          return { ok: false, error };
        }
      }),
    ).immediate;
  }

  /** Runs `work` in the next group's transaction; resolves with its result once that transaction committed. */
  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.commit());
      }
    });
  }

  private commit(): void {
    const group = this.pending.splice(0, MAX_GROUP);
    this.scheduled = this.pending.length > 0;
    if (this.scheduled) setImmediate(() => this.commit());
    let outcomes: Outcome[];
    try {
      outcomes = this.commitTogether(group);
    } catch (error) {
      // The commit itself failed (the database is locked past busy_timeout, the disk is full): none of it happened.
      for (const item of group) item.reject(error);
      return;
    }
    for (const [index, item] of group.entries()) {
      const outcome = outcomes[index] as Outcome;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    }
    this.afterCommit();
  }
}
