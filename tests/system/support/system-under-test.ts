// The system under test for one test file: its own vhost and its own data directory, services
// composed in this process with short delays, and their log lines kept in memory (printed only when
// a test fails, so a passing run stays quiet; SHOW_SERVICE_LOGS=1 prints them all at the end).
// Everything it creates is removed in afterAll.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { ServiceName } from '../../../shared/messages/events.ts';
import { createLogger, type Logger } from '../../../shared/log.ts';
import { DEFAULT_TOPOLOGY_SETTINGS } from '../../../shared/topology/topology.ts';
import type { ServiceConfig } from '../../../solutions/runtime/service-config.ts';
import { startSystem, type RunningSystem } from '../../../solutions/system.ts';
import { type TestVhost, useTestVhost } from '../../support/vhost.ts';

/** Short delays so a whole order flow takes well under a second. */
export const FAST_SETTINGS: Partial<ServiceConfig> = {
  deliveryDelayMs: 200,
  topology: { ...DEFAULT_TOPOLOGY_SETTINGS, retryDelayMs: 200, maxAttempts: 3 },
};

/** Every service's log lines, interleaved in the order they were written. */
export class LogBook {
  readonly lines: string[] = [];

  loggerFor(service: ServiceName): Logger {
    return createLogger(service, { out: (line) => this.lines.push(line), err: (line) => this.lines.push(line) });
  }

  /** Lines written by one service, without its `[service]` prefix. */
  linesOf(service: ServiceName): string[] {
    const prefix = `[${service}] `;
    return this.lines.filter((line) => line.startsWith(prefix)).map((line) => line.slice(prefix.length));
  }

  tail(count: number): string {
    return this.lines.slice(-count).join('\n');
  }
}

export interface StartOptions {
  services?: ServiceName[];
  /** Merged over FAST_SETTINGS. */
  config?: Partial<ServiceConfig>;
  /** One service's settings over those (its own broker user, say). */
  configFor?: (service: ServiceName) => Partial<ServiceConfig>;
}

export interface SystemUnderTest {
  readonly vhost: TestVhost;
  readonly dataDir: string;
  readonly logs: LogBook;
  /** Starts (some of) the services on this file's vhost and data directory; stopped in afterAll. */
  start(options?: StartOptions): Promise<RunningSystem>;
}

/** Registers the hooks that create and remove this file's vhost, data directory and systems. */
export function useSystemUnderTest(label: string): SystemUnderTest {
  // Its afterAll runs after this function's: the systems stop, then the vhost goes.
  const vhost = useTestVhost(label);
  let dataDir: string | undefined;
  const systems: RunningSystem[] = [];
  const logs = new LogBook();

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `order-system-${label}-`));
  });

  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => {
      if (logs.lines.length > 0) console.log(`🚨 the last log lines of the services (${label}):\n${logs.tail(120)}`);
    });
  });

  afterAll(async () => {
    await Promise.allSettled(systems.map((system) => system.stop()));
    if (process.env.SHOW_SERVICE_LOGS) console.log(`the services' log lines (${label}):\n${logs.lines.join('\n')}`);
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const required = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is only there once beforeAll has run`);
    return value;
  };

  return {
    vhost,
    get dataDir() {
      return required(dataDir, 'the data directory');
    },
    logs,
    async start(options = {}) {
      const system = await startSystem({
        brokerUrl: vhost.url,
        dataDir: required(dataDir, 'the data directory'),
        services: options.services,
        config: { ...FAST_SETTINGS, ...options.config },
        configFor: options.configFor,
        logFor: (service) => logs.loggerFor(service),
      });
      systems.push(system);
      return system;
    },
  };
}
