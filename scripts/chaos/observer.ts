// What the suite watches while it breaks things, without relying on what it breaks: the consumers
// on each consumed queue, read live with a passive queue.declare on a connection of its own (the
// management API's counts lag by a sample), and orders reaching their end, read from the order
// service's SQLite file (read-only, WAL lets it share the file with the running service).
import path from 'node:path';
import Database from 'better-sqlite3';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { QUEUES } from '../../shared/topology/topology.ts';

/** Every queue a service consumes, with the consumers it has when all is well (WORKERS=1). */
export const CONSUMED_QUEUES = [
  QUEUES.order,
  QUEUES.inventory,
  QUEUES.payment,
  QUEUES.shipping,
  QUEUES.audit,
  QUEUES.notificationEmail,
  QUEUES.notificationSms,
  QUEUES.paymentRpc,
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class Observer {
  private connection: ChannelModel | undefined;
  private channel: Channel | undefined;
  private orders: Database.Database | undefined;

  constructor(
    private readonly urls: () => string[],
    private readonly dataDir: string,
  ) {}

  private async openChannel(): Promise<Channel> {
    if (this.channel) return this.channel;
    let lastError: unknown = new Error('no broker node is up');
    for (const url of this.urls()) {
      try {
        const connection = await amqp.connect(url, { timeout: 2000 });
        connection.on('error', () => {});
        connection.on('close', () => {
          if (this.connection === connection) [this.connection, this.channel] = [undefined, undefined];
        });
        const channel = await connection.createChannel();
        // A passive declare of a missing queue closes the channel: start over with a new one.
        channel.on('error', () => {});
        channel.on('close', () => {
          if (this.channel === channel) this.channel = undefined;
        });
        [this.connection, this.channel] = [connection, channel];
        return channel;
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  }

  /**
   * Consumers per consumed queue right now; undefined when the broker does not answer within 3 s
   * (a connection that died without a close frame would otherwise hang until its heartbeat fails).
   */
  async consumers(): Promise<Map<string, number> | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const read = async () => {
      const channel = await this.openChannel();
      const counts = new Map<string, number>();
      for (const queue of CONSUMED_QUEUES) counts.set(queue, (await channel.checkQueue(queue)).consumerCount);
      return counts;
    };
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), 3000);
    });
    try {
      const counts = await Promise.race([read().catch(() => undefined), timeout]);
      if (!counts) this.dropConnection();
      return counts;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Forgets the connection (closing it in the background): the next reading opens a new one. */
  private dropConnection(): void {
    const connection = this.connection;
    [this.connection, this.channel] = [undefined, undefined];
    void connection?.close().catch(() => {});
  }

  /** Resolves with the time (Date.now()) at which every given queue had a consumer again, or undefined at the deadline. */
  async consumersBack(queues: readonly string[], deadline: number): Promise<number | undefined> {
    while (Date.now() < deadline) {
      const counts = await this.consumers();
      if (counts && queues.every((queue) => (counts.get(queue) ?? 0) >= 1)) return Date.now();
      await sleep(100);
    }
    return undefined;
  }

  private ordersDb(): Database.Database {
    this.orders ??= new Database(path.join(this.dataDir, 'order.sqlite'), { readonly: true, fileMustExist: true });
    return this.orders;
  }

  /** Order id → status, for the orders with these ids' prefix. */
  statuses(idPrefix: string): Map<string, string> {
    const rows = this.ordersDb()
      .prepare<[string], { order_id: string; status: string }>('SELECT order_id, status FROM orders WHERE order_id LIKE ?')
      .all(`${idPrefix}-%`);
    return new Map(rows.map((row) => [row.order_id, row.status]));
  }

  /** The earliest time (Date.now()) at which one of these orders reached its end, if one has. */
  firstEnded(orderIds: readonly string[]): number | undefined {
    if (orderIds.length === 0) return undefined;
    const row = this.ordersDb()
      .prepare<string[], { at: string | null }>(
        `SELECT MIN(updated_at) AS at FROM orders WHERE status IN ('completed', 'rejected', 'failed') AND order_id IN (${orderIds.map(() => '?').join(', ')})`,
      )
      .get(...orderIds);
    return row?.at ? Date.parse(row.at) : undefined;
  }

  async close(): Promise<void> {
    this.orders?.close();
    this.orders = undefined;
    await this.connection?.close().catch(() => {});
  }
}
