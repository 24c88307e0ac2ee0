// The dashboard's eyes on the broker, as any other client has them:
//   - a tap: an exclusive queue of its own bound to the audit fanout exchange (which gets a copy of
//     every domain event), consumed without acks — a view may miss an event while it reconnects,
//     and it must never hold back the system's own queues. It does not bind to order.exchange:
//     a catch-all binding there would route every event, so the alternate exchange would never fire.
//   - queue depths from AMQP (checkQueue, fresh every POLL_MS) and, for unacked counts and rates,
//     the management API's samples, with the time they were fetched.
//   - the audit stream, when there is one (AUDIT_STREAM=on, milestone 10): its newest offset, from a
//     reader of its own that attaches at 'last' and follows it (reading a stream takes nothing away
//     from anyone), and its size from the management API's sample (messages; segments on RabbitMQ 4).
//     AMQP cannot tell a stream's size: checkQueue answers 0 messages for one.
import { EventEmitter } from 'node:events';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { vhostOf } from '../../shared/broker/broker-url.ts';
import { ManagementApi, type ManagementCredentials } from '../../shared/broker/management-api.ts';
import { PARK_HEADERS } from '../../shared/layers/index.ts';
import type { Logger } from '../../shared/log.ts';
import { AUDIT_STREAM, buildTopology, DEFAULT_TOPOLOGY_SETTINGS, EXCHANGES } from '../../shared/topology/topology.ts';
import type { QueueType } from '../../shared/topology/types.ts';
import { withBrokerFeatures } from '../runtime/broker-topology.ts';
import type { OrderBoard, OrderCard } from './order-board.ts';

const POLL_MS = 500;
const MANAGEMENT_POLL_MS = 2000;
const RECONNECT_MS = 1000;

export interface QueueView {
  name: string;
  /** From AMQP, at `liveAt`: messages ready, and consumers. */
  ready?: number;
  consumers?: number;
  liveAt?: string;
  /** From the management API's last sample, fetched at `sampledAt`. */
  unacked?: number;
  publishRate?: number;
  deliverRate?: number;
  sampledAt?: string;
  missing?: boolean;
}

export interface StreamView {
  name: string;
  /** The newest offset the dashboard's own reader has seen, at `liveAt`. */
  lastOffset?: number;
  liveAt?: string;
  /** From the management API's last sample, fetched at `sampledAt`: messages the stream holds, and its segment files (RabbitMQ 4). */
  messages?: number;
  segments?: number;
  sampledAt?: string;
}

export interface BrokerWatchEvents {
  order: [OrderCard];
  queues: [QueueView[]];
  streams: [StreamView[]];
  broker: [{ connected: boolean; problem?: string }];
}

export class BrokerWatch extends EventEmitter<BrokerWatchEvents> {
  private connection: ChannelModel | undefined;
  private stopped = false;
  private timers: NodeJS.Timeout[] = [];
  private queues = new Map<string, QueueView>(buildTopology().queues.map((q) => [q.name, { name: q.name }]));
  private readonly api: ManagementApi;
  /** The streams seen on the broker (the management API lists them), by name. */
  private readonly streams = new Map<string, StreamView>();
  /** Whether the reader of the audit stream is attached on the current connection. */
  private following = false;
  connected = false;

  constructor(
    private readonly brokerUrl: string,
    management: ManagementCredentials,
    private readonly board: OrderBoard,
    private readonly log: Logger,
    /** QUEUE_TYPE, as the services were given it: with quorum queues on 4.3+ there are no retry queues to show. */
    private readonly queueType: QueueType = 'classic',
  ) {
    super();
    this.api = new ManagementApi(management);
  }

  queueViews(): QueueView[] {
    return [...this.queues.values()];
  }

  streamViews(): StreamView[] {
    return [...this.streams.values()];
  }

  start(): void {
    void this.connectLoop();
    this.timers.push(setInterval(() => void this.sampleManagement(), MANAGEMENT_POLL_MS));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    await this.connection?.close().catch(() => {});
  }

  private setConnected(connected: boolean, problem?: string): void {
    if (this.connected === connected && connected) return;
    this.connected = connected;
    this.emit('broker', { connected, ...(problem ? { problem } : {}) });
  }

  private async connectLoop(): Promise<void> {
    while (!this.stopped) {
      try {
        const connection = await amqp.connect(this.brokerUrl, { clientProperties: { connection_name: 'dashboard' } });
        this.connection = connection;
        this.showQueuesOf(connection);
        const closed = new Promise<void>((resolve) => connection.once('close', () => resolve()));
        connection.on('error', () => {});
        await this.tap(connection);
        this.following = false;
        this.setConnected(true);
        const poll = setInterval(() => {
          void this.pollDepths(connection);
          if (!this.following) void this.follow(connection, AUDIT_STREAM.name);
        }, POLL_MS);
        await closed;
        clearInterval(poll);
        if (!this.stopped) this.setConnected(false, 'the connection to the broker closed');
      } catch (error) {
        this.setConnected(false, error instanceof Error ? error.message : String(error));
      }
      if (!this.stopped) await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
    }
  }

  /** The queues the services declare on this connection's broker (broker-topology.ts), each keeping what was seen of it. */
  private showQueuesOf(connection: ChannelModel): void {
    const settings = withBrokerFeatures({ ...DEFAULT_TOPOLOGY_SETTINGS, queueType: this.queueType }, connection);
    const names = buildTopology(settings).queues.map((q) => q.name);
    this.queues = new Map(names.map((name) => [name, this.queues.get(name) ?? { name }]));
  }

  private async tap(connection: ChannelModel): Promise<void> {
    const channel = await connection.createChannel();
    channel.on('error', () => {});
    // Fails (and we try again in a second) while no service has declared the exchange yet.
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
    await channel.bindQueue(queue, EXCHANGES.audit, '');
    await channel.consume(
      queue,
      (message) => {
        if (!message) return void connection.close().catch(() => {}); // cancelled: reconnect
        const card = this.board.apply(message.content);
        if (card) this.emit('order', card);
      },
      { noAck: true },
    );
  }

  /**
   * Follows a stream from its last chunk, keeping the newest offset delivered. Does nothing (and is
   * tried again at the next poll) while the stream does not exist: the audit queue is the default.
   */
  private async follow(connection: ChannelModel, stream: string): Promise<void> {
    this.following = true;
    try {
      const channel = await connection.createChannel();
      channel.on('error', () => {});
      channel.on('close', () => (this.following = false));
      await channel.checkQueue(stream); // a 404 closes the channel: not a stream to follow (yet)
      await channel.prefetch(100);
      await channel.consume(
        stream,
        (message) => {
          if (!message) return void channel.close().catch(() => {}); // cancelled (deleted): follow it again once it is back
          const offset = Number(message.properties.headers?.['x-stream-offset']);
          const view = this.streams.get(stream) ?? { name: stream };
          if (Number.isFinite(offset))
            Object.assign(view, { lastOffset: Math.max(offset, view.lastOffset ?? -1), liveAt: new Date().toISOString() });
          this.streams.set(stream, view);
          channel.ack(message);
        },
        { noAck: false, arguments: { 'x-stream-offset': 'last' } },
      );
    } catch {
      this.following = false;
    }
  }

  private depthChannel: Channel | undefined;

  private async openDepthChannel(connection: ChannelModel): Promise<Channel> {
    const channel = await connection.createChannel();
    channel.on('error', () => {});
    channel.on('close', () => (this.depthChannel = undefined));
    this.depthChannel = channel;
    return channel;
  }

  private async pollDepths(connection: ChannelModel): Promise<void> {
    const liveAt = new Date().toISOString();
    for (const view of this.queues.values()) {
      try {
        const channel: Channel = this.depthChannel ?? (await this.openDepthChannel(connection));
        const { messageCount, consumerCount } = await channel.checkQueue(view.name);
        Object.assign(view, { ready: messageCount, consumers: consumerCount, liveAt, missing: false });
      } catch {
        // checkQueue on a queue that does not exist closes the channel: a new one next time.
        this.depthChannel = undefined;
        Object.assign(view, { missing: true, liveAt });
      }
    }
    this.emit('queues', this.queueViews());
    if (this.streams.size > 0) this.emit('streams', this.streamViews());
  }

  private async sampleManagement(): Promise<void> {
    const vhost = vhostOf(this.brokerUrl);
    try {
      const rows = await this.api.request<
        Array<{
          name: string;
          type?: string;
          messages?: number;
          segments?: number;
          messages_unacknowledged?: number;
          message_stats?: { publish_details?: { rate: number }; deliver_get_details?: { rate: number } };
        }>
      >(
        'GET',
        `/queues/${encodeURIComponent(vhost)}?columns=name,type,messages,segments,messages_unacknowledged,message_stats.publish_details.rate,message_stats.deliver_get_details.rate`,
      );
      const sampledAt = new Date().toISOString();
      for (const row of rows) {
        if (row.type === 'stream') {
          const stream = this.streams.get(row.name) ?? { name: row.name };
          this.streams.set(row.name, Object.assign(stream, { messages: row.messages, segments: row.segments, sampledAt }));
          continue;
        }
        const view = this.queues.get(row.name);
        if (!view) continue;
        Object.assign(view, {
          unacked: row.messages_unacknowledged ?? 0,
          publishRate: row.message_stats?.publish_details?.rate ?? 0,
          deliverRate: row.message_stats?.deliver_get_details?.rate ?? 0,
          sampledAt,
        });
      }
    } catch (error) {
      this.log.warn(`the management API did not answer: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** The parked messages, with their reasons: peeked through the management API and requeued as they were. */
  async deadLetters(
    limit = 20,
  ): Promise<Array<{ reason?: string; queue?: string; attempts?: number; type?: string; orderId?: string; parkedAt?: string }>> {
    const vhost = vhostOf(this.brokerUrl);
    const messages = await this.api.request<
      Array<{ payload: string; properties: { type?: string; correlation_id?: string; headers?: Record<string, unknown> } }>
    >('POST', `/queues/${encodeURIComponent(vhost)}/${encodeURIComponent('dead-letter.queue')}/get`, {
      count: limit,
      ackmode: 'ack_requeue_true',
      encoding: 'auto',
      truncate: 2000,
    });
    return messages.map(({ properties }) => {
      const headers = properties.headers ?? {};
      const text = (key: string) => (typeof headers[key] === 'string' ? (headers[key] as string) : undefined);
      return {
        reason: text(PARK_HEADERS.reason),
        queue: text(PARK_HEADERS.queue),
        attempts: typeof headers[PARK_HEADERS.attempts] === 'number' ? (headers[PARK_HEADERS.attempts] as number) : undefined,
        type: properties.type,
        orderId: properties.correlation_id,
        parkedAt: text(PARK_HEADERS.parkedAt),
      };
    });
  }
}
