// Runs one service: its database, its broker session (topology, consumers, RPC, outbox relay,
// rebuilt after every reconnect) and a graceful stop. What becomes of each consumed message is
// deliveries.ts; domain code lives in solutions/services.
import type { ChannelModel } from 'amqplib';
import { ExerciseNotWrittenError } from '../../shared/workshop/exercise.ts';
import type { Layers, RpcClient, StreamReader, WorkerPool } from '../../shared/layers/index.ts';
import type { ConsumerHandle } from '../../shared/layers/05-acks-prefetch.ts';
import type { DomainEvent } from '../../shared/messages/events.ts';
import type { Logger } from '../../shared/log.ts';
import { buildTopology, EXCHANGES, queueSpec, routingHeadersFor, RPC_ENDPOINTS } from '../../shared/topology/topology.ts';
import type { Topology } from '../../shared/topology/types.ts';
import { coalesceAcks } from './ack-coalescer.ts';
import { BrokerSession } from './broker-session.ts';
import { withBrokerFeatures } from './broker-topology.ts';
import { openServiceDatabase, type ServiceDatabase } from './database.ts';
import { Deliveries } from './deliveries.ts';
import { declareOwnTopology, declareTopology, MissingTopologyError } from './declare-topology.ts';
import { startMetricsServer, type MetricsServer } from '../observability/metrics-server.ts';
import { eventTypeLabel, ServiceMetrics } from '../observability/service-metrics.ts';
import { ROOT_CONTEXT, ServiceTracing } from '../observability/tracing.ts';
import { Outbox } from './outbox.ts';
import { migrateStreamOffsets, startStreamReader } from './stream-readers.ts';
import { SENT_LOG_STALLS, StallWatch } from './stall-watch.ts';
import type { ServiceConfig } from './service-config.ts';
import type { EmitOptions, ServiceDefinition, ServiceHost, StartedExtras } from './service-definition.ts';

export class ServiceRuntime implements ServiceHost {
  readonly name;
  readonly db: ServiceDatabase;
  readonly outbox: Outbox;
  /** Each consumed message, from decode to ack or failure (deliveries.ts). */
  private readonly deliveries: Deliveries;
  /** The topology as built for the broker of the current connection (broker-topology.ts). */
  private topology: Topology;
  private session: BrokerSession | undefined;
  private pools: WorkerPool[] = [];
  private rpcServers: ConsumerHandle[] = [];
  private streamReaders: StreamReader[] = [];
  private rpcClient: RpcClient | undefined;
  private extras: StartedExtras | undefined;
  private metricsServer: MetricsServer | undefined;
  private stallWatch: StallWatch | undefined;
  private stopping = false;
  /** Prometheus metrics of this service (solutions/observability), served at /metrics when config.metricsPort is set. */
  readonly metrics: ServiceMetrics;
  /** Spans of every publish and delivery, with the trace context carried in each message's headers. */
  readonly tracing: ServiceTracing;

  private constructor(
    private readonly definition: ServiceDefinition,
    readonly config: ServiceConfig,
    readonly layers: Layers,
    readonly log: Logger,
  ) {
    this.name = definition.name;
    this.db = openServiceDatabase(config.dataDir, definition.name, config.sqliteSynchronous);
    definition.migrate(this.db);
    if (definition.streams) migrateStreamOffsets(this.db);
    this.outbox = new Outbox(this.db, log, config.stallAfterMs === undefined ? undefined : config.stallAfterMs * SENT_LOG_STALLS);
    this.topology = buildTopology(config.topology);
    const observed = config.observability !== 'off';
    this.tracing = new ServiceTracing(definition.name, config.dataDir, log, process.env, observed);
    this.metrics = new ServiceMetrics(
      definition.name,
      {
        outboxPending: () => this.outbox.pending(),
        outboxOldestAgeSeconds: () => this.outbox.oldestAgeSeconds(),
        brokerConnected: () => this.isBrokerConnected(),
      },
      observed,
    );
    this.deliveries = new Deliveries(this);
  }

  /** Opens the database, connects (declaring topology and starting consumers), then runs the service's own start. */
  static async start(definition: ServiceDefinition, config: ServiceConfig, layers: Layers, log: Logger): Promise<ServiceRuntime> {
    const runtime = new ServiceRuntime(definition, config, layers, log);
    try {
      // Before connecting: a service that cannot reach the broker says so in its metrics too.
      if (config.metricsPort !== undefined)
        runtime.metricsServer = await startMetricsServer(runtime.metrics.registry, config.metricsPort, config.httpHost ?? '127.0.0.1', log);
      runtime.session = await BrokerSession.connect({
        url: config.brokerUrl,
        failoverUrls: config.failoverUrls,
        connectionName: `${definition.name}-${process.pid}`,
        log,
        setup: (connection, session) => runtime.setup(connection, session),
        onDisconnect: () => runtime.forgetConnection(),
        onReconnect: () => runtime.metrics.reconnects.inc(),
        // A learner's layer that is not written yet will not be written by retrying.
        // Nor will topology that this service's user may not declare appear by retrying.
        isFatal: (error) => error instanceof ExerciseNotWrittenError || error instanceof MissingTopologyError,
      });
      runtime.extras = await definition.start?.(runtime);
      if (config.stallAfterMs !== undefined && definition.findStalled) {
        runtime.stallWatch = new StallWatch(
          {
            name: definition.name,
            db: runtime.db,
            log,
            config,
            isBrokerConnected: () => runtime.isBrokerConnected(),
            enqueue: (event) => runtime.enqueue(event),
            nudge: () => runtime.outbox.nudge(),
            requested: () => runtime.metrics.redrivesRequested.inc(),
          },
          definition.findStalled,
          config.stallAfterMs,
        );
        runtime.stallWatch.start();
      }
    } catch (error) {
      await runtime.stop();
      throw error;
    }
    const pending = runtime.outbox.pending();
    log.info(`ready${pending > 0 ? ` (${pending} messages from before a restart are waiting in the outbox)` : ''}`);
    return runtime;
  }

  isBrokerConnected(): boolean {
    return this.session?.isConnected() ?? false;
  }

  outboxPending(): number {
    return this.outbox.pending();
  }

  /** Where GET /metrics answers, when it is served. */
  get metricsPort(): number | undefined {
    return this.metricsServer?.port;
  }

  /** The HTTP API's port, for services that have one. */
  get httpPort(): number | undefined {
    return this.extras?.httpPort;
  }

  enqueue(event: DomainEvent, options: EmitOptions = {}): number {
    const message = this.layers.codec.encode(event);
    const priority = this.layers.scaling.priorityFor(event);
    if (priority !== undefined) message.options.priority = priority;
    if (options.expirationMs !== undefined) message.options.expiration = String(options.expirationMs);
    // The broker refuses a user_id other than the connection's user, so consumers can trust it.
    const publisher = this.config.brokerUsers?.[this.name];
    if (publisher !== undefined) message.options.userId = publisher;
    const route = options.route ?? { exchange: EXCHANGES.order, routingKey: this.layers.routing.routingKeyFor(event) };
    // Recorded on the span of what caused the event (a delivery, an HTTP request), or a producer span
    // of a new trace; that context travels in the message's traceparent header, through the outbox row.
    const context = this.tracing.recordPublish(options.trace ?? ROOT_CONTEXT, {
      eventType: event.type,
      exchange: route.exchange,
      routingKey: route.routingKey,
      messageId: event.messageId,
      orderId: event.orderId,
    });
    // What the headers exchanges route on (notification.sms.exchange: express, text-worthy), as booleans.
    message.options.headers = { ...message.options.headers, ...routingHeadersFor(event) };
    this.tracing.inject(context, message.options.headers);
    // Kept in the sent log once published, for a re-drive; a re-drive's request itself is not.
    const orderId = event.type === 'saga.stalled' ? undefined : event.orderId;
    return this.outbox.add({ exchange: route.exchange, routingKey: route.routingKey, message, orderId });
  }

  waitForPublish(outboxRowId: number, timeoutMs: number): Promise<boolean> {
    return this.outbox.waitForPublish(outboxRowId, timeoutMs);
  }

  async rpcCall(queue: string, request: unknown): Promise<unknown> {
    if (!this.rpcClient || !this.isBrokerConnected()) throw new Error('not connected to the broker');
    return this.rpcClient.call(queue, request);
  }

  /** Runs after every (re)connect: a fresh connection has no channels, consumers or reply queue. */
  private async setup(connection: ChannelModel, session: BrokerSession): Promise<void> {
    const { layers, config } = this;
    this.forgetConnection(); // leftovers of an earlier setup that failed half-way
    // Rebuilt for the broker of this connection: on 4.3+ with quorum queues a failed message waits in its queue.
    this.topology = buildTopology(withBrokerFeatures(config.topology, connection));
    const topologyChannel = await session.openChannel(connection, 'topology');
    if (config.brokerUsers) await declareOwnTopology(topologyChannel, this.topology, this.name, layers, config.topology.queueType);
    else await declareTopology(topologyChannel, this.topology, layers, config.topology.queueType);
    await topologyChannel.close();

    const publisher = await session.openChannel(connection, 'publisher');
    this.outbox.attach(async (exchange, routingKey, message) => {
      await layers.durability.publishConfirmed(publisher, exchange, routingKey, message);
      this.metrics.published.inc({ exchange: exchange || '(default)', event_type: eventTypeLabel(message.options.type) });
    });

    const queuesOfTopology = new Set(this.topology.queues.map((q) => q.name));
    for (const consumer of this.definition.consumers.filter((c) => queuesOfTopology.has(c.queue))) {
      const spec = queueSpec(this.topology, consumer.queue);
      const pool = await layers.scaling.startWorkers(
        // Acks of one commit group leave as one multiple ack where that is safe (ack-coalescer.ts).
        async () => coalesceAcks(await session.openChannel(connection, `${consumer.queue} worker`)),
        (channel) =>
          layers.acks.consume(channel, consumer.queue, (message) => this.deliveries.handle(consumer, spec, message), {
            prefetch: consumer.sink ? config.sinkPrefetch : config.prefetch,
            onFailure: (failedChannel, message, error) => this.deliveries.handleFailure(failedChannel, message, error, spec),
            onCancelled: () => session.restart(`the broker cancelled the consumer on ${consumer.queue}`),
          }),
        config.workers,
      );
      this.pools.push(pool);
    }

    for (const stream of this.topology.streams ?? []) {
      const handler = stream.consumer === this.name ? this.definition.streams?.[stream.name] : undefined;
      if (!handler) continue;
      const channel = await session.openChannel(connection, `${stream.name} reader`);
      this.streamReaders.push(
        await startStreamReader({
          stream,
          handler,
          channel,
          layers,
          db: this.db,
          log: this.log,
          prefetch: config.sinkPrefetch,
          brokerVersion: brokerVersionOf(connection),
        }),
      );
    }

    for (const endpoint of this.definition.rpc?.(this) ?? []) {
      const channel = await session.openChannel(connection, `${endpoint.queue} rpc`);
      this.rpcServers.push(
        await layers.rpc.serve(channel, endpoint.queue, (request) => endpoint.handle(request), {
          onCancelled: () => session.restart(`the broker cancelled the RPC server on ${endpoint.queue}`),
        }),
      );
    }
    // Only services that call an endpoint get a client (and its reply queue): under least privilege
    // the others may not declare one.
    if (Object.values(RPC_ENDPOINTS).some((endpoint) => endpoint.callers.includes(this.name))) {
      this.rpcClient = await layers.rpc.createClient(await session.openChannel(connection, 'rpc client'), {
        timeoutMs: config.rpcTimeoutMs,
      });
    }
  }

  /** The connection is gone, and with it every channel: drop what belonged to it (no messages are lost: unacked ones are redelivered). */
  private forgetConnection(): void {
    this.outbox.detach();
    this.pools = [];
    this.rpcServers = [];
    this.streamReaders = [];
    void this.rpcClient?.close().catch(() => {});
    this.rpcClient = undefined;
  }

  /** Stops taking work, finishes what is in flight, publishes the outbox, then closes. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.log.info('shutting down: finishing in-flight messages');
    this.stallWatch?.stop();
    await this.extras?.stop().catch((error: unknown) => this.log.error('stopping', error));
    await Promise.allSettled([
      ...this.pools.map((pool) => pool.stop()),
      ...this.rpcServers.map((server) => server.stop()),
      ...this.streamReaders.map((reader) => reader.stop()),
    ]);
    await this.rpcClient?.close().catch(() => {});
    if (this.isBrokerConnected() && !(await this.outbox.flush(this.config.shutdownFlushMs))) {
      this.log.warn(`${this.outbox.pending()} messages stay in the outbox; they are published at the next start`);
    }
    await this.outbox.stop();
    await this.session?.close();
    await this.metricsServer?.stop();
    await this.tracing.shutdown(); // writes the spans still buffered
    this.db.close();
    this.log.info('stopped');
  }
}

/** The version the broker announced when the connection opened (amqplib keeps its server properties). */
function brokerVersionOf(connection: ChannelModel): string | undefined {
  const properties = (connection as unknown as { connection?: { serverProperties?: { version?: unknown } } }).connection?.serverProperties;
  return typeof properties?.version === 'string' ? properties.version : undefined;
}
