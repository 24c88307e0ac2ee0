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
  /** Errors the graded code threw where nobody awaited them (a throw in a consume callback, an unhandled rejection). */
  strays: unknown[];
  abort(): void;
  /** Closes what the check opened (each step bounded in time). Resolves with the vhost's deletion, which may finish later. */
  cleanup(): Promise<{ vhostDeleted: Promise<void> }>;
}

/** A cleanup step that hangs (a stuck handler in the graded code) must not hang the grader. */
const CLEANUP_STEP_MS = 5000;

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
  const cleanups: Array<() => Promise<void> | void> = [];
  const serviceLog: string[] = [];
  const strays: unknown[] = [];
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
            // A synchronous throw in a consume callback would otherwise break the whole connection.
            channel.on('handler-error', (error: Error) => strays.push(error));
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
      // Imported on first use: most checks never start services, and this pulls in express and SQLite.
      const { startSystem } = await import('../solutions/system.ts');
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
    strays,
    async cleanup() {
      for (const cleanup of cleanups.reverse()) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.resolve().then(cleanup).catch(() => {}),
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, CLEANUP_STEP_MS);
          }),
        ]);
        clearTimeout(timer);
      }
      // Deleting the vhost also removes anything left behind; nobody needs to wait for it.
      return { vhostDeleted: api.deleteVhost(name).catch(() => {}) };
    },
  };
}
