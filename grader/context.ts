// Builds what one check runs in: its own vhost, connections and services that are cleaned up when
// the check ends, whatever happened.
import { withVhost } from '../shared/broker/broker-url.ts';
import type { BrokerEndpoint } from '../shared/broker/find-broker.ts';
import { ManagementApi } from '../shared/broker/management-api.ts';
import type { LayerName, Layers } from '../shared/layers/index.ts';
import { createLogger } from '../shared/log.ts';
import { buildTopology, DEFAULT_TOPOLOGY_SETTINGS } from '../shared/topology/topology.ts';
import type { TopologySettings } from '../shared/topology/types.ts';
import { composeLayers } from '../solutions/layers/compose.ts';
import type { BrokerControl } from './broker-control.ts';
import type { CheckContext } from './check.ts';
import { checkDataRoot } from './data-dirs.ts';
import { createSandbox } from './sandbox.ts';

/**
 * Short delays: a retry every 300 ms, parked after 3 attempts. Notifications expire after 60 s, not
 * sooner: an expired notification is dead-lettered into dead-letter.queue, and with a 1 s TTL the
 * copies of a check's events in the notification queues (no notification service runs in most
 * checks) reached it before the message a service parks whenever the machine was busy, so that
 * 01.in-the-system read an expired copy (no x-attempts) first. The check of the TTL itself
 * (06.queue-arguments) sets its own.
 */
export const CHECK_SETTINGS: TopologySettings = {
  ...DEFAULT_TOPOLOGY_SETTINGS,
  retryDelayMs: 300,
  maxAttempts: 3,
  notificationTtlMs: 60_000,
};

export interface GradingEnvironment {
  broker: BrokerEndpoint;
  api: ManagementApi;
  brokerControl: BrokerControl;
}

export interface ContextHandle<K extends LayerName> {
  context: CheckContext<K>;
  /** Lines the services logged during the check (shown with a failure). */
  serviceLog: string[];
  /** Errors the graded code threw where nobody awaited them (a throw in a consume callback, an unhandled rejection). */
  strays: unknown[];
  abort(): void;
  /** Closes what the check opened (each step bounded in time). Resolves with the vhost's deletion, which may finish later. */
  cleanup(): Promise<{ vhostDeleted: Promise<void> }>;
}

let vhostCounter = 0;

/**
 * Creates the vhost a check will run in, with its permissions, and resolves with its name. The
 * runner calls it for the next check while the current one runs (two management requests, about
 * 30 ms each, off the learner's wait); createCheckContext calls it when nothing was made ahead.
 * The name carries the process id, so that a process killed mid-run leaves nothing for long
 * (environment.ts sweeps such vhosts).
 */
export async function createCheckVhost(environment: GradingEnvironment, checkId: string): Promise<string> {
  const name = `grade-${checkId}-${process.pid}-${++vhostCounter}-${Math.random().toString(36).slice(2, 6)}`;
  await environment.api.createVhost(name);
  return name;
}

export async function createCheckContext<K extends LayerName>(
  environment: GradingEnvironment,
  layerName: K,
  layer: Layers[K],
  checkId: string,
  announce: (message: string) => void,
  /** A vhost created ahead for this check (createCheckVhost); if that failed, one is created now. */
  madeAhead?: Promise<string>,
): Promise<ContextHandle<K>> {
  const name = (await madeAhead?.catch(() => undefined)) ?? (await createCheckVhost(environment, checkId));
  const api = environment.api;
  const url = withVhost(environment.broker.url, name);
  const serviceLog: string[] = [];
  const strays: unknown[] = [];
  const controller = new AbortController();
  const layers = composeLayers({ [layerName]: layer });
  const sandbox = createSandbox({
    url,
    label: `grade-${checkId}-${process.pid}`,
    dataRoot: checkDataRoot(),
    layers,
    onStray: (error) => strays.push(error),
    // One interleaved log for all services, shown when the check fails.
    logFor: (service) => createLogger(service, { out: (line) => serviceLog.push(line), err: (line) => serviceLog.push(line) }),
    systemDefaults: {
      deliveryDelayMs: 100,
      rpcTimeoutMs: 1000,
      shutdownFlushMs: 500,
      topology: CHECK_SETTINGS,
      sqliteSynchronous: 'normal',
    },
  });

  const context: CheckContext<K> = {
    layer,
    layers,
    reference: composeLayers(),
    vhost: { name, url, api, management: { ...api.credentials, vhost: name } },
    settings: CHECK_SETTINGS,
    topology: buildTopology(CHECK_SETTINGS),
    connect: sandbox.connect,
    startSystem: sandbox.startSystem,
    onCleanup: sandbox.onCleanup,
    announce,
    brokerControl: environment.brokerControl,
    signal: controller.signal,
  };

  return {
    context,
    serviceLog,
    abort: () => controller.abort(),
    strays,
    async cleanup() {
      await sandbox.cleanup();
      // Deleting the vhost also removes anything left behind; nobody needs to wait for it.
      return { vhostDeleted: api.deleteVhost(name).catch(() => {}) };
    },
  };
}
