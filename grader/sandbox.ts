// What checks and demos both run the graded layer in: connections to one vhost whose channels can't
// crash the grader, services of the reference system started on that vhost and a temp data dir,
// and a cleanup that closes all of it, each step bounded in time.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import amqp, { type ChannelModel } from 'amqplib';
import type { Layers } from '../shared/layers/index.ts';
import type { ServiceName } from '../shared/messages/events.ts';
import type { Logger } from '../shared/log.ts';
import type { ServiceConfig } from '../solutions/runtime/service-config.ts';
import type { RunningSystem } from '../solutions/system.ts';

/** A cleanup step that hangs (a stuck handler in the graded code) must not hang the grader. */
export const CLEANUP_STEP_MS = 5000;

/** Waits for `step` (sync or async) at most `ms`, and never throws. */
export async function bounded(step: () => unknown, ms = CLEANUP_STEP_MS): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.resolve()
      .then(step)
      .catch(() => {}),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

export interface SandboxOptions {
  /** AMQP URL of the sandbox's vhost. */
  url: string;
  /** Names the temp data dirs of the services it starts. */
  label: string;
  /** Where those data dirs go: the system's temp dir unless said otherwise. */
  dataRoot?: string;
  layers: Layers;
  /** What the graded code throws in a consume callback (it would otherwise break the connection). */
  onStray(error: unknown): void;
  /** A channel the broker closed (an unknown delivery tag, a redeclaration with other arguments). */
  onChannelError?(error: Error): void;
  logFor(service: ServiceName): Logger;
  /** Settings for the services it starts, before each call's own. */
  systemDefaults: Partial<ServiceConfig>;
}

export interface Sandbox {
  connect(): Promise<ChannelModel>;
  startSystem(options?: { services?: ServiceName[]; config?: Partial<ServiceConfig> }): Promise<RunningSystem>;
  /** Runs at cleanup, last registered first. */
  onCleanup(cleanup: () => Promise<void> | void): void;
  cleanup(): Promise<void>;
}

/** The reference system's module, loaded once per process (it pulls in express, SQLite and OpenTelemetry). */
export const loadSystem = () => import('../solutions/system.ts');

/** How many times this process started services of the reference system: the self-proof compares it with the manifest's startsTheSystem. */
export const systemStarts = { count: 0 };

export function createSandbox(options: SandboxOptions): Sandbox {
  const cleanups: Array<() => Promise<void> | void> = [];
  return {
    async connect() {
      const connection = await amqp.connect(options.url);
      // A check that closes or kills connections on purpose, or a layer that makes the broker close a
      // channel, must not crash the grader: every connection and channel gets an error listener.
      connection.on('error', () => {});
      for (const method of ['createChannel', 'createConfirmChannel'] as const) {
        const create = connection[method].bind(connection);
        Object.assign(connection, {
          [method]: async (...args: Parameters<typeof create>) => {
            const channel = await create(...args);
            channel.on('error', (error: Error) => options.onChannelError?.(error));
            channel.on('handler-error', (error: Error) => options.onStray(error));
            return channel;
          },
        });
      }
      cleanups.push(() => connection.close().catch(() => {}));
      return connection;
    },
    async startSystem(start = {}) {
      const dataDir = fs.mkdtempSync(path.join(options.dataRoot ?? os.tmpdir(), `${options.label}-`));
      cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
      // Imported on first use: most checks never start services, and this pulls in express and SQLite
      // (a grading child warms it ahead for a milestone whose manifest says startsTheSystem).
      const { startSystem } = await loadSystem();
      systemStarts.count++;
      const system = await startSystem({
        brokerUrl: options.url,
        dataDir,
        services: start.services,
        layers: options.layers,
        config: { ...options.systemDefaults, ...start.config },
        logFor: options.logFor,
      });
      cleanups.push(() => system.stop());
      return system;
    },
    onCleanup: (cleanup) => cleanups.push(cleanup),
    async cleanup() {
      for (const cleanup of cleanups.splice(0).reverse()) await bounded(cleanup);
    },
  };
}
