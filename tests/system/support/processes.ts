// Services as real processes, as `npm start` runs them: `node --import tsx solutions/run-service.ts
// <name>`, configured through the environment, reporting {type: 'ready'} over IPC. Their output is
// captured (and printed only when asked for), and nothing outlives the test file.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ServiceName } from '../../../shared/messages/events.ts';

const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const ReadyMessage = z.object({ type: z.literal('ready'), service: ServiceName, httpPort: z.number().int().positive().optional() });

export interface ServiceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServiceEnvironment {
  brokerUrl: string;
  managementUrl: string;
  dataDir: string;
  /** More variables (DELIVERY_DELAY_MS, RETRY_DELAY_MS, ...). */
  extra?: Record<string, string>;
}

export function serviceEnv({ brokerUrl, managementUrl, dataDir, extra }: ServiceEnvironment): NodeJS.ProcessEnv {
  return {
    ...process.env,
    RABBITMQ_URL: brokerUrl,
    RABBITMQ_MANAGEMENT_URL: managementUrl,
    DATA_DIR: dataDir,
    // 0: the order service picks a free port and reports it in its ready message (no race for a port).
    HTTP_PORT: '0',
    ...extra,
  };
}

/** Rejects after timeoutMs, saying what did not happen. */
function withDeadline<T>(promise: Promise<T>, timeoutMs: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what())), timeoutMs);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

export class ServiceProcess {
  readonly exited: Promise<ServiceExit>;
  /** The HTTP port it reported when ready (the order service). */
  httpPort: number | undefined;
  private readonly ready: Promise<void>;
  private captured = '';
  private done = false;

  private constructor(
    readonly name: ServiceName,
    private readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => (this.captured += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.captured += chunk.toString()));
    this.exited = new Promise((resolve) => {
      // 'close', not 'exit': by then the last output lines have been read.
      child.once('close', (code, signal) => {
        this.done = true;
        resolve({ code, signal });
      });
    });
    this.ready = new Promise((resolve, reject) => {
      child.on('message', (message: unknown) => {
        const parsed = ReadyMessage.safeParse(message);
        if (parsed.success && parsed.data.service === name) {
          this.httpPort = parsed.data.httpPort;
          resolve();
        }
      });
      void this.exited.then(({ code, signal }) =>
        reject(new Error(`${name} exited (code ${code}, signal ${signal}) before it was ready:\n${this.captured}`)),
      );
    });
    this.ready.catch(() => {}); // awaited in start(); an exit after ready is not an error here
  }

  /** Spawns the service and waits until it reports ready. */
  static async start(name: ServiceName, env: NodeJS.ProcessEnv, timeoutMs = 45_000): Promise<ServiceProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'solutions/run-service.ts', name], {
      cwd: PROJECT_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const service = new ServiceProcess(name, child);
    try {
      await withDeadline(service.ready, timeoutMs, () => `${name} was not ready within ${timeoutMs} ms:\n${service.captured}`);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
    return service;
  }

  /** Everything it printed so far (stdout and stderr, as they arrived). */
  output(): string {
    return this.captured;
  }

  hasExited(): boolean {
    return this.done;
  }

  signal(signal: NodeJS.Signals): void {
    if (!this.done) this.child.kill(signal);
  }

  /** Waits for the process to end (after a signal), failing after timeoutMs. */
  waitForExit(timeoutMs = 15_000): Promise<ServiceExit> {
    return withDeadline(this.exited, timeoutMs, () => `${this.name} did not exit within ${timeoutMs} ms:\n${this.captured}`);
  }

  /** SIGTERM and wait; SIGKILL for a straggler. Never throws: for cleanup. */
  async stop(timeoutMs = 15_000): Promise<ServiceExit> {
    this.signal('SIGTERM');
    return this.waitForExit(timeoutMs).catch(() => {
      this.signal('SIGKILL');
      return this.exited;
    });
  }
}
