// Runs several services inside one process: what tests and the grader use to compose the system
// quickly. `npm start` runs each service as its own process instead (run-service.ts).
import type { Layers } from '../shared/layers/index.ts';
import type { ServiceName } from '../shared/messages/events.ts';
import { createLogger, type Logger } from '../shared/log.ts';
import { DEFAULT_TOPOLOGY_SETTINGS } from '../shared/topology/topology.ts';
import { referenceLayers } from './layers/index.ts';
import type { ServiceConfig } from './runtime/service-config.ts';
import { ServiceRuntime } from './runtime/service-runtime.ts';
import { SERVICES } from './services/index.ts';

export interface SystemOptions {
  brokerUrl: string;
  dataDir: string;
  services?: ServiceName[];
  config?: Partial<ServiceConfig>;
  /** Settings of one service over `config` (e.g. its own broker user under least privilege). */
  configFor?: (service: ServiceName) => Partial<ServiceConfig>;
  layers?: Layers;
  /** One logger per service; defaults to printing `[service] ...` lines. */
  logFor?: (service: ServiceName) => Logger;
}

export interface RunningSystem {
  runtimes: Partial<Record<ServiceName, ServiceRuntime>>;
  runtime(name: ServiceName): ServiceRuntime;
  /** The order service's HTTP base URL, when it runs. */
  baseUrl: string | undefined;
  stop(): Promise<void>;
}

export function systemConfig(options: Pick<SystemOptions, 'brokerUrl' | 'dataDir' | 'config'>): ServiceConfig {
  return {
    brokerUrl: options.brokerUrl,
    dataDir: options.dataDir,
    httpPort: 0,
    deliveryDelayMs: 300,
    paymentLimitCents: 1_000_000,
    topology: DEFAULT_TOPOLOGY_SETTINGS,
    prefetch: 10,
    sinkPrefetch: 50,
    workers: 1,
    rpcTimeoutMs: 3000,
    shutdownFlushMs: 5000,
    ...options.config,
  };
}

export async function startSystem(options: SystemOptions): Promise<RunningSystem> {
  const config = systemConfig(options);
  const names = options.services ?? (Object.keys(SERVICES) as ServiceName[]);
  const runtimes: Partial<Record<ServiceName, ServiceRuntime>> = {};
  const stop = async () => {
    await Promise.all(Object.values(runtimes).map((runtime) => runtime.stop()));
  };
  try {
    // The services are independent (declaring the shared topology twice is harmless): start them together.
    const started = await Promise.allSettled(
      names.map(async (name) => {
        runtimes[name] = await ServiceRuntime.start(
          SERVICES[name],
          { ...config, ...options.configFor?.(name) },
          options.layers ?? referenceLayers,
          options.logFor?.(name) ?? createLogger(name),
        );
      }),
    );
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  } catch (error) {
    await stop();
    throw error;
  }
  const port = runtimes.order?.httpPort;
  return {
    runtimes,
    runtime: (name) => {
      const runtime = runtimes[name];
      if (!runtime) throw new Error(`${name} is not running in this system`);
      return runtime;
    },
    baseUrl: port === undefined ? undefined : `http://127.0.0.1:${port}`,
    stop,
  };
}
