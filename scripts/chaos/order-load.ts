// Places the planned orders at a steady rate through POST /orders, as a careful client would: a
// request that fails (connection refused or reset while the order service is down, 503 while it has
// no broker) is sent again with the same orderId until it is accepted, since the API is idempotent
// by orderId. The suite opens a gate a stretch at a time, so each fault has orders around it.
import { request } from '../bench-load/saga-load.ts';
import type { PlannedOrder } from './order-mix.ts';

export interface Placement {
  /** The status that ended the attempts: 201, 202 (stored, event pending) or 200 (a retry found it stored). */
  status: number;
  attempts: number;
  placedAt: number;
  acceptedAt: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ACCEPTED = new Set([200, 201, 202]);

export class OrderLoad {
  readonly placements = new Map<string, Placement>();
  /** Answers that retrying cannot fix (400, 409): a finding, never retried. */
  readonly refused: Array<{ orderId: string; status: number }> = [];
  /** Orders never accepted before the deadline. */
  readonly unplaced: string[] = [];
  /** Each order's first POST, in the order they were sent (Date.now()). */
  readonly sent: Array<{ orderId: string; at: number }> = [];
  placed = 0;
  inFlight = 0;
  retries = 0;
  private gate = 0;
  private hurry = 0;
  private wake: (() => void) | undefined;

  constructor(
    private readonly apiUrl: () => string,
    private readonly orders: PlannedOrder[],
    private readonly ratePerSecond: number,
    private readonly deadline: number,
  ) {}

  /** Lets the first `count` orders be placed (never lowers the gate). */
  allowUpTo(count: number): void {
    this.gate = Math.min(this.orders.length, Math.max(this.gate, count));
    this.wake?.();
  }

  /** The next `count` orders go out at once instead of at the rate: work in flight for a fault. */
  burst(count: number): void {
    this.hurry += count;
    this.allowUpTo(this.placed + count);
  }

  get allPlaced(): boolean {
    return this.placed >= this.orders.length;
  }

  /** Places every order; resolves once each was accepted, refused, or ran out of time. */
  async run(onPlaced?: () => void): Promise<void> {
    const posts: Promise<void>[] = [];
    const interval = 1000 / this.ratePerSecond;
    while (this.placed < this.orders.length && Date.now() < this.deadline) {
      if (this.placed >= this.gate) {
        await this.pause(200);
        continue;
      }
      const order = this.orders[this.placed++] as PlannedOrder;
      posts.push(this.place(order));
      onPlaced?.();
      if (this.hurry > 0) this.hurry--;
      else await this.pause(interval);
    }
    for (const order of this.orders.slice(this.placed)) this.unplaced.push(order.orderId);
    await Promise.all(posts);
  }

  /** Waits `ms`, or less when the gate opens or a burst is asked for. */
  private async pause(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = undefined;
  }

  private async place(order: PlannedOrder): Promise<void> {
    const placedAt = Date.now();
    this.sent.push({ orderId: order.orderId, at: placedAt });
    this.inFlight++;
    try {
      for (let attempt = 1, backoff = 100; Date.now() < this.deadline; attempt++, backoff = Math.min(2000, backoff * 2)) {
        const status = await request('POST', `${this.apiUrl()}/orders`, order.body).catch(() => 0);
        if (ACCEPTED.has(status)) {
          this.placements.set(order.orderId, { status, attempts: attempt, placedAt, acceptedAt: Date.now() });
          return;
        }
        if (status === 400 || status === 409) {
          this.refused.push({ orderId: order.orderId, status });
          return;
        }
        this.retries++;
        await sleep(backoff);
      }
      this.unplaced.push(order.orderId);
    } finally {
      this.inFlight--;
    }
  }
}
