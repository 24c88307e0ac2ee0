// Everything a service needs to know about its surroundings, built from the environment
// (run-service.ts) or directly (tests compose services in-process with their own settings).
import { credentialsOf, vhostOf } from '../../shared/broker/broker-url.ts';
import type { EnvConfig } from '../../shared/config.ts';
import { SERVICE_NAMES, type ServiceName } from '../../shared/messages/events.ts';
import type { ManagementTarget } from '../../shared/layers/index.ts';
import type { SqliteSynchronous } from './database.ts';
import type { TopologySettings } from '../../shared/topology/types.ts';

export interface ServiceConfig {
  brokerUrl: string;
  /**
   * Set when each service logs in as a broker user of its own (least privilege, `npm run
   * broker:setup`): every service's user name. The runtime then declares only what its service owns,
   * stamps its user on every event it publishes (user_id, which the broker checks), and refuses an
   * event whose user_id is not one of that event type's publishers. Unset: one shared identity
   * (guest locally), and none of these checks.
   */
  brokerUsers?: Record<ServiceName, string>;
  /** The other nodes of brokerUrl's cluster, to fail over to (RABBITMQ_URL's list form). */
  failoverUrls?: string[];
  /** The management API, for the order service's /admin/queues; undefined when unknown. */
  management?: ManagementTarget;
  dataDir: string;
  /** How commits reach the disk (database.ts); 'full' unless SQLITE_SYNCHRONOUS says otherwise. */
  sqliteSynchronous?: SqliteSynchronous;
  httpPort: number;
  /** Where this service serves GET /metrics (0: any free port); undefined: nowhere (services composed in one process, unless asked). */
  metricsPort?: number;
  /** The address the HTTP API listens on: 127.0.0.1 unless said otherwise (a container says 0.0.0.0). */
  httpHost?: string;
  /** How long the simulated customer waits before confirming a delivery; 'manual' waits for the HTTP call. */
  deliveryDelayMs: number | 'manual';
  paymentLimitCents: number;
  topology: TopologySettings;
  prefetch: number;
  /** Prefetch of a sink consumer (ConsumerDefinition.sink): the audit log and the notifications. */
  sinkPrefetch: number;
  /** Competing consumers per queue inside this process. */
  workers: number;
  rpcTimeoutMs: number;
  /**
   * How long an order may stay still before the service that notices asks for a re-drive
   * (stall-watch.ts); every service then keeps a sent log for SENT_LOG_STALLS times as long.
   * Undefined: no watch and no sent log (the in-process systems of tests, unless asked).
   */
  stallAfterMs?: number;
  /** 'off': no spans recorded, counters and histograms left at zero (OBSERVABILITY); on unless said. */
  observability?: 'on' | 'off';
  /** How long a stopping service keeps trying to publish what is left in its outbox (the rest waits for the next start). */
  shutdownFlushMs: number;
}

/** The topology the environment asks for: every service, and `npm run broker:setup`, read it here, so they agree. */
export function topologySettingsFromEnv(env: EnvConfig): TopologySettings {
  return {
    retryDelayMs: env.RETRY_DELAY_MS,
    maxAttempts: env.MAX_ATTEMPTS,
    notificationTtlMs: env.NOTIFICATION_TTL_MS,
    queueType: env.QUEUE_TYPE,
    ...(env.AUDIT_STREAM === 'on' ? { auditStream: true } : {}),
  };
}

export function serviceConfigFromEnv(
  env: EnvConfig,
  brokerUrl: string,
  managementUrl?: string,
  failoverUrls: string[] = [],
  service?: ServiceName,
): ServiceConfig {
  return {
    // npm start's six processes take METRICS_PORT and the five after it, in SERVICE_NAMES order.
    metricsPort: env.METRICS_PORT === 0 || service === undefined ? env.METRICS_PORT : env.METRICS_PORT + SERVICE_NAMES.indexOf(service),
    brokerUrl,
    failoverUrls,
    management: managementUrl ? { baseUrl: managementUrl, ...credentialsOf(brokerUrl), vhost: vhostOf(brokerUrl) } : undefined,
    dataDir: env.DATA_DIR,
    sqliteSynchronous: env.SQLITE_SYNCHRONOUS,
    httpPort: env.HTTP_PORT,
    httpHost: env.HTTP_HOST,
    deliveryDelayMs: env.DELIVERY_DELAY_MS,
    paymentLimitCents: env.PAYMENT_LIMIT_CENTS,
    topology: topologySettingsFromEnv(env),
    prefetch: env.PREFETCH,
    sinkPrefetch: env.SINK_PREFETCH,
    workers: env.WORKERS,
    rpcTimeoutMs: env.RPC_TIMEOUT_MS,
    stallAfterMs: env.STALL_AFTER_MS === 0 ? undefined : env.STALL_AFTER_MS,
    shutdownFlushMs: 5000,
    observability: env.OBSERVABILITY,
  };
}
