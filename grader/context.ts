// Builds what one check runs in: its own vhost, connections and services that are cleaned up when
// the check ends, whatever happened.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import amqp from 'amqplib';
import { withVhost } from '../shared/broker/broker-url.ts';
import type { BrokerEndpoint } from '../shared/broker/find-broker.ts';
import { ManagementApi } from '../shared/broker/management-api.ts';
import type { Layers } from '../shared/layers/index.ts';
import { createLogger } from '../shared/log.ts';
import { buildTopology, DEFAULT_TOPOLOGY_SETTINGS } from '../shared/topology/topology.ts';
import type { TopologySettings } from '../shared/topology/types.ts';
import { referenceLayers } from '../solutions/layers/index.ts';
import { startSystem } from '../solutions/system.ts';
import type { BrokerControl } from './broker-control.ts';
import type { CheckContext, LayerName } from './check.ts';

/** Short delays: a retry every 300 ms, parked after 3 attempts, notifications expire after 1 s. */
export const CHECK_SETTINGS: TopologySettings = { ...DEFAULT_TOPOLOGY_SETTINGS, retryDelayMs: 300, maxAttempts: 3, notificationTtlMs: 1000 };

export interface GradingEnvironment {
  broker: BrokerEndpoint;
  api: ManagementApi;
  brokerControl: BrokerControl;
}

export interface ContextHandle<K extends LayerName> {
  context: CheckContext<K>;
  /** Lines the services logged during the check (shown with a failure). */
  serviceLog: string[];
  abort(): void;
  cleanup(): Promise<void>;
}

let vhostCounter = 0;

export async function createCheckContext<K extends LayerName>(
  environment: GradingEnvironment,
  layerName: K,
  layer: Layers[K],
  checkId: string,
  announce: (message: string) => void,
): Promise<ContextHandle<K>> {
  const name = `grade-${checkId}-${process.pid}-${++vhostCounter}-${Math.random().toString(36).slice(2, 6)}`;
  const api = environment.api;
  await api.createVhost(name);
  const url = withVhost(environment.broker.url, name);
  const cleanups: Array<() => Promise<void> | void> = [() => api.deleteVhost(name)];
  const serviceLog: string[] = [];
  const controller = new AbortController();
  const layers = { ...referenceLayers, [layerName]: layer } as Layers;

  const context: CheckContext<K> = {
    layer,
    layers,
    reference: referenceLayers,
    vhost: { name, url, api, management: { ...api.credentials, vhost: name } },
    settings: CHECK_SETTINGS,
    topology: buildTopology(CHECK_SETTINGS),
    async connect() {
      const connection = await amqp.connect(url);
      // A check that closes or kills connections on purpose, or a layer that makes the broker close a
      // channel, must not crash the grader: every connection and channel gets an error listener.
      connection.on('error', () => {});
      for (const method of ['createChannel', 'createConfirmChannel'] as const) {
        const create = connection[method].bind(connection);
        Object.assign(connection, {
          [method]: async (...args: Parameters<typeof create>) => {
            const channel = await create(...args);
            channel.on('error', () => {});
            return channel;
          },
        });
      }
      cleanups.push(() => connection.close().catch(() => {}));
      return connection;
    },
    async startSystem(options = {}) {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `grade-${checkId}-`));
      cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
      const system = await startSystem({
        brokerUrl: url,
        dataDir,
        services: options.services,
        layers,
        config: { deliveryDelayMs: 100, rpcTimeoutMs: 1000, shutdownFlushMs: 500, topology: CHECK_SETTINGS, ...options.config },
        // One interleaved log for all services, shown when the check fails.
        logFor: (service) => createLogger(service, { out: (line) => serviceLog.push(line), err: (line) => serviceLog.push(line) }),
      });
      cleanups.push(() => system.stop());
      return system;
    },
    onCleanup: (cleanup) => cleanups.push(cleanup),
    announce,
    brokerControl: environment.brokerControl,
    signal: controller.signal,
  };

  return {
    context,
    serviceLog,
    abort: () => controller.abort(),
    async cleanup() {
      for (const cleanup of cleanups.reverse()) {
        await Promise.resolve()
          .then(cleanup)
          .catch(() => {});
      }
    },
  };
}
