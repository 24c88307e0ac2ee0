// Settings from the environment, read once and validated. Defaults suit a laptop with a local broker.
import { z } from 'zod';
import { splitBrokerUrls } from './broker/broker-url.ts';

const EnvSchema = z.object({
  /** One AMQP URL, or the nodes of a cluster comma-separated (broker-url.ts splitBrokerUrls). */
  RABBITMQ_URL: z
    .string()
    .refine(
      (value) => splitBrokerUrls(value).length > 0 && splitBrokerUrls(value).every((url) => URL.canParse(url)),
      'an AMQP URL, or several separated by commas',
    )
    .optional(),
  RABBITMQ_MANAGEMENT_URL: z.string().url().optional(),
  DATA_DIR: z.string().default('data'),
  /** Written by npm run broker:setup: each service logs in as its own broker user (least privilege). Unset: all share RABBITMQ_URL's user. */
  BROKER_USERS_FILE: z.string().min(1).optional(),
  /** full: every SQLite commit is fsynced before the message is acked; normal: only at checkpoints (faster, not safe from a power loss). */
  SQLITE_SYNCHRONOUS: z.enum(['full', 'normal']).default('full'),
  HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** off: no spans recorded and the counters and histograms left at zero (to measure what they cost, or to save it). */
  OBSERVABILITY: z.enum(['on', 'off']).default('on'),
  /** The first of six ports, one per service in SERVICE_NAMES order, for GET /metrics (0: any free port each). */
  METRICS_PORT: z.coerce.number().int().min(0).max(65530).default(9101),
  /** The order service's HTTP API listens on loopback only unless this says otherwise (containers: 0.0.0.0). */
  HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  /** How long the simulated customer takes to confirm a delivery; "manual" waits for POST /orders/:id/confirm-delivery. */
  DELIVERY_DELAY_MS: z.union([z.literal('manual'), z.coerce.number().int().min(0)]).default(1500),
  PAYMENT_LIMIT_CENTS: z.coerce.number().int().positive().default(1_000_000),
  RETRY_DELAY_MS: z.coerce.number().int().positive().default(1000),
  MAX_ATTEMPTS: z.coerce.number().int().positive().default(5),
  NOTIFICATION_TTL_MS: z.coerce.number().int().positive().default(60_000),
  QUEUE_TYPE: z.enum(['classic', 'quorum']).default('classic'),
  /** on: the audit log is kept in a stream, audit.stream, instead of audit.queue (milestone 10; every service must agree). */
  AUDIT_STREAM: z.enum(['on', 'off']).default('off'),
  PREFETCH: z.coerce.number().int().positive().default(10),
  /** Prefetch of the consumers that only record (audit, notifications): no priorities to keep, many messages per order. */
  SINK_PREFETCH: z.coerce.number().int().positive().default(50),
  WORKERS: z.coerce.number().int().positive().default(1),
  /** The fault suite's (npm run chaos): the share of handler calls, 0 to 1, that throw a transient error first. */
  CHAOS_FAILURE_RATE: z.coerce.number().min(0).max(1).optional(),
  RPC_TIMEOUT_MS: z.coerce.number().int().positive().default(3000),
  /** How long an order may stand still before it is re-driven (its events sent again under the same ids); 0: never. */
  STALL_AFTER_MS: z.coerce.number().int().min(0).default(60_000),
  /** The live dashboard (npm run dashboard, and npm start): port (0 = any free one), address, and a token for its controls when not on loopback. */
  DASHBOARD_PORT: z.coerce.number().int().min(0).max(65535).default(8081),
  DASHBOARD_HOST: z.string().min(1).default('127.0.0.1'),
  DASHBOARD_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  /** Where the dashboard places orders: the order service's HTTP API. */
  ORDER_API_URL: z.string().url().optional(),
});

export type EnvConfig = z.infer<typeof EnvSchema>;

/** Parses process.env (or the given object); a bad value is a clear error naming the variable. */
export function readEnv(env: NodeJS.ProcessEnv = process.env): EnvConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`invalid environment: ${problems}`);
  }
  return parsed.data;
}
