// Drives the saga: `outstanding` clients each place an order, wait until the tap sees it finish,
// and place the next, for a fixed time; optionally with polling clients that GET an order every
// interval as a browser would. Completion is observed on the broker (a tap queue bound to the audit
// fanout exchange, which gets a copy of every event), never by polling the API.
import http from 'node:http';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { EXCHANGES, QUEUES } from '../../shared/topology/topology.ts';

export interface LoadPhase {
  name: string;
  /** Orders placed and not finished yet, at most: one client per order in flight. */
  outstanding: number;
  seconds: number;
  pollers: number;
  pollIntervalMs: number;
  /** Open loop instead: place this many orders per second, however many are in flight (`outstanding` is ignored). */
  rate?: number;
}

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface SagaResult {
  orders: number;
  /** Orders that ended otherwise than completed (rejected, payment failed) or never finished. */
  failures: number;
  seconds: number;
  ordersPerSecond: number;
  latencyMs: Percentiles;
  polls: number;
  pollsPerSecond: number;
  pollLatencyMs: Percentiles;
  /** Ready messages in the service queues, sampled twice a second: the largest, and the last of the phase. */
  backlog: { max: number; atEnd: number; worstQueue: string };
  /** How long the queues took to empty once the clients stopped. */
  drainMs: number;
}

const FINAL_TYPES = new Set(['order.completed', 'order.rejected', 'payment.failed']);
const SKUS = ['item1', 'item2', 'item3', 'item4', 'item5'];
const WATCHED_QUEUES = [
  QUEUES.order,
  QUEUES.inventory,
  QUEUES.payment,
  QUEUES.shipping,
  QUEUES.audit,
  QUEUES.notificationEmail,
  QUEUES.notificationSms,
];
const DRAIN_TIMEOUT_MS = 60_000;

function percentiles(values: number[]): Percentiles {
  if (values.length === 0) return { p50: NaN, p95: NaN, p99: NaN, max: NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted.at(-1) as number };
}

/** Watches the audit fanout for the event that ends each order. */
export class CompletionTap {
  private readonly waiting = new Map<string, (type: string) => void>();
  private constructor(
    private readonly connection: ChannelModel,
    readonly channel: Channel,
  ) {}

  static async open(brokerUrl: string): Promise<CompletionTap> {
    const connection = await amqp.connect(brokerUrl);
    const channel = await connection.createChannel();
    const tap = new CompletionTap(connection, channel);
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
    await channel.bindQueue(queue, EXCHANGES.audit, '');
    await channel.consume(
      queue,
      (message) => {
        if (!message) return;
        const type = message.properties.type as string | undefined;
        if (!type || !FINAL_TYPES.has(type)) return;
        const { orderId } = JSON.parse(message.content.toString()) as { orderId: string };
        const done = tap.waiting.get(orderId);
        tap.waiting.delete(orderId);
        done?.(type);
      },
      { noAck: true },
    );
    return tap;
  }

  /** Resolves with the final event's type; register before placing the order. */
  finished(orderId: string, timeoutMs: number): Promise<string> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(orderId);
        resolve('timeout');
      }, timeoutMs);
      this.waiting.set(orderId, (type) => {
        clearTimeout(timer);
        resolve(type);
      });
    });
  }

  /** Ready messages per watched queue, read with queue.declare passive (live, unlike management samples). */
  async readyCounts(): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const queue of WATCHED_QUEUES) counts.set(queue, (await this.channel.checkQueue(queue)).messageCount);
    return counts;
  }

  async close(): Promise<void> {
    await this.connection.close().catch(() => {});
  }
}

/** Keep-alive HTTP with node:http: the driver's own CPU is part of what is measured, so keep it small. */
const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });

export function request(method: string, url: string, body?: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      url,
      { method, agent, headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {} },
      (res) => {
        res.resume(); // the body is not needed, only that it was served
        res.once('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.once('error', reject);
    req.end(payload);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runSagaPhase(
  apiUrl: string,
  tap: CompletionTap,
  phase: LoadPhase,
  onProgress: (done: number) => void,
  idPrefix: string,
): Promise<SagaResult> {
  const latencies: number[] = [];
  const pollLatencies: number[] = [];
  const recentOrders: string[] = [];
  let failures = 0;
  let placed = 0;
  let polls = 0;
  const startedAt = performance.now();
  const deadline = startedAt + phase.seconds * 1000;
  let completedInWindow = 0;

  // Closed loop: each client places its next order once the last one finished.
  const client = async () => {
    while (performance.now() < deadline) {
      const failuresBefore = failures;
      await placeAndFollow();
      if (failures > failuresBefore) await sleep(100); // do not spin on a refusing API
    }
  };

  const poller = async (index: number) => {
    // Spread the pollers over the interval, as independent browsers would be.
    await sleep((index * phase.pollIntervalMs) / Math.max(1, phase.pollers));
    while (performance.now() < deadline) {
      const next = performance.now() + phase.pollIntervalMs;
      const orderId = recentOrders[Math.floor(Math.random() * recentOrders.length)] ?? 'none-yet';
      const sentAt = performance.now();
      await request('GET', `${apiUrl}/orders/${encodeURIComponent(orderId)}`).catch(() => 0);
      pollLatencies.push(performance.now() - sentAt);
      polls++;
      await sleep(Math.max(0, next - performance.now()));
    }
  };

  let maxBacklog = 0;
  let worstQueue = '';
  let lastBacklog = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const counts = await tap.readyCounts().catch(() => new Map<string, number>());
      lastBacklog = 0;
      for (const [queue, ready] of counts) {
        lastBacklog += ready;
        if (ready > maxBacklog) [maxBacklog, worstQueue] = [ready, queue];
      }
      await sleep(500);
    }
  })();

  // Open loop: orders arrive at a steady rate, each followed on its own.
  const arrivals = async (rate: number) => {
    const inFlight: Promise<void>[] = [];
    for (let n = 0; ; n++) {
      const due = startedAt + (n * 1000) / rate;
      if (due >= deadline) break;
      await sleep(Math.max(0, due - performance.now()));
      inFlight.push(placeAndFollow());
    }
    await Promise.all(inFlight);
  };
  const placeAndFollow = async () => {
    const orderId = `${idPrefix}-${placed++}`;
    const finished = tap.finished(orderId, DRAIN_TIMEOUT_MS);
    const postedAt = performance.now();
    const status = await request('POST', `${apiUrl}/orders`, {
      orderId,
      user: 'bench',
      items: [{ sku: SKUS[placed % SKUS.length], quantity: 1 }],
    }).catch(() => 0);
    if (status !== 201 && status !== 202) {
      failures++;
      return;
    }
    recentOrders.push(orderId);
    if (recentOrders.length > 1000) recentOrders.shift();
    const outcome = await finished;
    const endedAt = performance.now();
    if (outcome !== 'order.completed') failures++;
    else {
      latencies.push(endedAt - postedAt);
      if (endedAt <= deadline) completedInWindow++;
    }
    onProgress(Math.min(1, (endedAt - startedAt) / (phase.seconds * 1000)));
  };

  const drivers = phase.rate ? [arrivals(phase.rate)] : Array.from({ length: phase.outstanding }, () => client());
  await Promise.all([...drivers, ...Array.from({ length: phase.pollers }, (_, i) => poller(i))]);
  const backlogAtEnd = lastBacklog;
  const drainStarted = performance.now();
  while (performance.now() - drainStarted < DRAIN_TIMEOUT_MS) {
    const counts = await tap.readyCounts();
    if ([...counts.values()].every((ready) => ready === 0)) break;
    await sleep(100);
  }
  const drainMs = performance.now() - drainStarted;
  sampling = false;
  await sampler;

  const seconds = phase.seconds;
  return {
    orders: latencies.length,
    failures,
    seconds,
    ordersPerSecond: completedInWindow / seconds,
    latencyMs: percentiles(latencies),
    polls,
    pollsPerSecond: polls / seconds,
    pollLatencyMs: percentiles(pollLatencies),
    backlog: { max: maxBacklog, atEnd: backlogAtEnd, worstQueue },
    drainMs,
  };
}
