// Reads off the consumer's thread. The order service consumes and commits on its main thread, and
// with synchronous=FULL a commit holds that thread until the disk has the data; clients poll
// GET /orders/:id a few times a second each. So the reads run in a worker thread with a read-only
// connection of its own (order-read-worker.mjs): the main thread only parses the request and writes
// the answer the worker prepared. A read sees every commit made before it began (WAL): an order
// whose POST was answered is found. If the worker dies, reads fall back to the main thread.
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../../shared/log.ts';
import { describeError } from '../../../shared/log.ts';
import { ORDER_READS } from './order-store.ts';

/** An answer to GET /orders/:id: its status and its JSON body, ready to send. */
export interface ReadAnswer {
  status: number;
  body: string;
}

type WorkerAnswer = ({ status: number; body: string } | { error: string }) & { id: number };

const WORKER = new URL('./order-read-worker.mjs', import.meta.url);

export class OrderReads {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly waiting = new Map<number, { orderId: string; resolve: (answer: ReadAnswer) => void }>();

  /** file: the order database; onMainThread answers when the worker cannot (it never started, or it died). */
  constructor(
    file: string,
    private readonly onMainThread: (orderId: string) => ReadAnswer,
    private readonly log: Logger,
  ) {
    try {
      // execArgv []: plain JavaScript needs no loader, so the thread starts without tsx's (its start-up costs more than the reads).
      const worker = new Worker(WORKER, { workerData: { file, ...ORDER_READS }, execArgv: [] });
      worker.unref(); // a service stops by closing what it opened; this thread never holds it up
      worker.on('message', (answer: WorkerAnswer) => this.answer(answer));
      worker.on('error', (error) => this.giveUp(`the read thread failed: ${describeError(error)}`));
      worker.on('exit', (code) => this.giveUp(`the read thread exited (${code})`));
      this.worker = worker;
    } catch (error) {
      this.giveUp(`no read thread: ${describeError(error)}`);
    }
  }

  read(orderId: string): Promise<ReadAnswer> {
    const worker = this.worker;
    if (!worker) return Promise.resolve(this.onMainThread(orderId));
    return new Promise((resolve) => {
      const id = this.nextId++;
      this.waiting.set(id, { orderId, resolve });
      worker.postMessage({ id, orderId });
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.answerWaitingOnMainThread();
    await worker?.terminate();
  }

  private answer(answer: WorkerAnswer): void {
    const waiting = this.waiting.get(answer.id);
    if (!waiting) return;
    this.waiting.delete(answer.id);
    // A read the worker could not do (a locked file past busy_timeout, say) is done here instead.
    waiting.resolve('error' in answer ? this.onMainThread(waiting.orderId) : { status: answer.status, body: answer.body });
  }

  private giveUp(why: string): void {
    if (!this.worker && this.waiting.size === 0) return;
    if (this.worker) this.log.warn(`${why}; GET /orders/:id is answered on the main thread from now on`);
    this.worker = undefined;
    this.answerWaitingOnMainThread();
  }

  private answerWaitingOnMainThread(): void {
    for (const { orderId, resolve } of this.waiting.values()) resolve(this.onMainThread(orderId));
    this.waiting.clear();
  }
}
