// One service as a child process: `node --import tsx solutions/run-service.ts <name>` (or another
// entry point: the dashboard), or under `npm start` the same entry point from its bundle, without
// tsx (supervisor/bundle.mjs). Its output joins the shared log stream, it reports
// `{ type: 'ready' }` over IPC, and it is stopped with SIGTERM (SIGKILL only for a straggler).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { LogStream } from './log-stream.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RUN_SERVICE = fileURLToPath(new URL('../run-service.ts', import.meta.url));

// run-service.ts may add the port it listens on (the order service), which matters with HTTP_PORT=0;
// the dashboard adds its address.
const ReadyMessage = z.object({
  type: z.literal('ready'),
  service: z.string(),
  httpPort: z.number().int().positive().optional(),
  metricsPort: z.number().int().positive().optional(),
  url: z.string().optional(),
});

export interface ServiceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** SERVICE_NODE_ARGS: extra flags for each service's node (NODE_OPTIONS refuses some, e.g. --cpu-prof). */
function serviceNodeArgs(env: NodeJS.ProcessEnv): string[] {
  return env.SERVICE_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? [];
}

/** WORKSHOP_START_BUNDLE, set by start.mjs: the bundled entry points of the services and the dashboard. */
const StartBundle = z.object({ service: z.string(), dashboard: z.string() });
export type StartBundle = z.infer<typeof StartBundle>;

export function startBundle(env: NodeJS.ProcessEnv): StartBundle | undefined {
  try {
    const parsed = StartBundle.safeParse(JSON.parse(env.WORKSHOP_START_BUNDLE ?? 'null'));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** What a child runs: a .ts entry point through tsx, or `bundled`, its plain JavaScript build. */
export interface ProcessEntry {
  script: string;
  args: string[];
  bundled?: string;
}

/**
 * The service's node arguments: from the bundle when there is one, except on the learner's layers
 * (WORKSHOP_LAYERS=mine): their .ts files load through tsx, and the classes they throw (a todo()'s
 * ExerciseNotWrittenError) must be the runtime's own copy for it to recognise them.
 */
function nodeArgs(entry: ProcessEntry, env: NodeJS.ProcessEnv): string[] {
  const bundled = env.WORKSHOP_LAYERS === 'mine' ? undefined : entry.bundled;
  return [...serviceNodeArgs(env), ...(bundled !== undefined ? [bundled] : ['--import', 'tsx', entry.script]), ...entry.args];
}

export function describeExit({ code, signal }: ServiceExit): string {
  return signal ? `killed by ${signal}` : `exit code ${code}`;
}

export class ServiceProcess {
  /** Resolves when the service says it is ready; never settles if it exits first (watch `exited`). */
  readonly ready: Promise<void>;
  readonly exited: Promise<ServiceExit>;
  isReady = false;
  /** The HTTP port it reported when ready, if it serves HTTP. */
  httpPort: number | undefined;
  /** Where it serves GET /metrics, as it reported when ready. */
  metricsPort: number | undefined;
  /** The address it reported when ready (the dashboard). */
  url: string | undefined;
  hasExited = false;
  /** Set once we asked it to stop: an exit after this is expected. */
  stopRequested = false;
  private readonly child: ChildProcess;

  constructor(
    readonly name: string,
    env: NodeJS.ProcessEnv,
    private readonly logs: LogStream,
    entry: ProcessEntry = { script: RUN_SERVICE, args: [name], bundled: startBundle(env)?.service },
  ) {
    this.child = spawn(process.execPath, nodeArgs(entry, env), {
      cwd: REPO_ROOT, // `--import tsx` and the default DATA_DIR resolve from the project root
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // Its own process group: Ctrl-C in the terminal reaches only the supervisor, which then
      // stops each service exactly once, with SIGTERM.
      detached: true,
    });
    if (this.child.stdout) logs.pipe(name, this.child.stdout);
    if (this.child.stderr) logs.pipe(name, this.child.stderr);

    this.ready = new Promise((resolve) => {
      this.child.on('message', (message: unknown) => {
        const parsed = ReadyMessage.safeParse(message);
        if (parsed.success && parsed.data.service === name) {
          this.isReady = true;
          this.httpPort = parsed.data.httpPort;
          this.metricsPort = parsed.data.metricsPort;
          this.url = parsed.data.url;
          resolve();
        }
      });
    });
    this.exited = new Promise((resolve) => {
      // 'close' (not 'exit') so the service's last log lines are printed before we report its exit.
      this.child.once('close', (code, signal) => {
        this.hasExited = true;
        resolve({ code, signal });
      });
      // 'on', not 'once': a second error (a failed kill, say) must not be an unhandled 'error' event.
      this.child.on('error', (error) => {
        logs.line(name, this.child.pid === undefined ? `could not start: ${error.message}` : error.message);
        if (this.child.pid === undefined) {
          this.hasExited = true;
          resolve({ code: null, signal: null });
        }
      });
    });
  }

  /** Its process id (undefined when it could not be spawned): the fault suite kills it by pid. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Every IPC message it sends (the dashboard asks for services to stop and start). */
  onMessage(listener: (message: unknown) => void): void {
    this.child.on('message', listener);
  }

  /** Best effort: a service that is shutting down may close its IPC channel at any moment. */
  send(message: unknown): void {
    if (this.hasExited || !this.child.connected) return;
    // With a callback a failed write (EPIPE from a child that is exiting) is passed here instead of
    // being emitted as an 'error' event on the child, which would say "could not start".
    this.child.send(message as object, (error) => {
      if (error && !this.hasExited && !this.stopRequested) this.logs.line(this.name, `could not tell it: ${error.message}`);
    });
  }

  /** Asks the service to shut down gracefully. */
  stop(): void {
    this.stopRequested = true;
    if (!this.hasExited) this.child.kill('SIGTERM');
  }

  /** Ends it at once: for stragglers past the deadline, and a second Ctrl-C. */
  kill(): void {
    this.stopRequested = true;
    if (!this.hasExited) this.child.kill('SIGKILL');
  }
}
