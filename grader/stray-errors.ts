// What the graded code throws where nobody can catch it (in a callback, a promise nobody awaited)
// fails the check whose code threw it, or, thrown after that check had ended, the milestone ("late").
// Each grading has a StrayCapture of its own, and each check's code runs in an async context that
// names its check (AsyncLocalStorage: a timer or a socket callback started by a check carries it), so
// two gradings in one process, or the checks of a milestone that runs them at once, keep their
// strays apart. The process's events are shared: each capture listens, and takes only its own.
import { AsyncLocalStorage } from 'node:async_hooks';

interface CheckScope {
  capture: StrayCapture;
  checkId: string;
  strays: unknown[];
  running: boolean;
}

/** The check whose code is running: a key, holding no grading's state. */
const checkScope = new AsyncLocalStorage<CheckScope>();

export interface LateStray {
  /** The check that had ended when it was thrown (the one that left it behind, when known). */
  after?: string;
  error: unknown;
}

export class StrayCapture {
  private readonly running = new Set<CheckScope>();
  private readonly late: LateStray[] = [];
  private lastFinished: string | undefined;
  private readonly listener = (error: unknown) => this.record(error);

  /** Starts listening: from here on, a stray is never a crash of the grader. */
  start(): void {
    process.on('unhandledRejection', this.listener);
    process.on('uncaughtException', this.listener);
  }

  /** Stops listening; returns what was thrown while no check of its own was running. */
  stop(): LateStray[] {
    process.off('unhandledRejection', this.listener);
    process.off('uncaughtException', this.listener);
    return this.late.splice(0);
  }

  /** Runs a check's code (and its cleanup) so that what it throws uncaught lands in `strays`. */
  async during<T>(checkId: string, strays: unknown[], run: () => Promise<T>): Promise<T> {
    const scope: CheckScope = { capture: this, checkId, strays, running: true };
    this.running.add(scope);
    try {
      return await checkScope.run(scope, run);
    } finally {
      scope.running = false;
      this.running.delete(scope);
      this.lastFinished = checkId;
    }
  }

  private record(error: unknown): void {
    const scope = checkScope.getStore();
    if (scope) {
      if (scope.capture !== this) return; // another grading's check threw it
      if (scope.running) scope.strays.push(error);
      else this.late.push({ after: scope.checkId, error });
      return;
    }
    // Thrown outside any check's context: the checks running now get it; between checks, the last
    // one to end left it behind.
    if (this.running.size === 0) this.late.push({ after: this.lastFinished, error });
    for (const running of this.running) running.strays.push(error);
  }
}
