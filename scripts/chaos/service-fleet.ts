// The six services as separate processes (`node --import tsx solutions/run-service.ts <name>`, as
// npm start runs them), so that kill -9 hits a real process by its pid. npm start's supervisor
// stops everything when a service dies; here a killed or crashed service is started again at once,
// as systemd or Kubernetes would. Their logs go to one file, prefixed by service.
import fs from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { SERVICE_NAMES, type ServiceName } from '../../shared/messages/events.ts';
import { formatLine, type LogStream } from '../../solutions/supervisor/log-stream.ts';
import { describeExit, ServiceProcess } from '../../solutions/supervisor/service-process.ts';

const READY_TIMEOUT_MS = 90_000;
const STOP_DEADLINE_MS = 20_000;

/** Every line to a file, and a count of the lines that matter to the report. */
class FileLogStream implements LogStream {
  private readonly out: fs.WriteStream;
  readonly counts = { injectedFailures: 0, parked: 0, errors: 0 };
  /** The last warnings the services printed (other than the injected failures), for a fault's report. */
  readonly recentWarnings: string[] = [];

  constructor(readonly file: string) {
    this.out = fs.createWriteStream(file);
  }

  line(source: string, text: string): void {
    if (text.includes('injected transient failure')) this.counts.injectedFailures++;
    else if (text.includes('] warning: ')) {
      this.recentWarnings.push(`${source}: ${text.slice(text.indexOf('warning: ') + 9)}`);
      if (this.recentWarnings.length > 50) this.recentWarnings.shift();
    }
    if (text.includes('parked') && text.includes('dead-letter queue')) this.counts.parked++;
    if (/\] error: /.test(text)) this.counts.errors++;
    this.out.write(`${new Date().toISOString()} ${formatLine(source, text, false)}\n`);
  }

  pipe(source: string, stream: Readable): void {
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (text) => this.line(source, text));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.out.end(resolve));
  }
}

export interface UnexpectedExit {
  service: ServiceName;
  how: string;
  at: number;
}

export class ServiceFleet {
  private readonly current = new Map<ServiceName, ServiceProcess>();
  /** Services that died without being killed by the suite (each was started again). */
  readonly unexpectedExits: UnexpectedExit[] = [];
  private readonly killed = new Set<ServiceProcess>();
  private stopping = false;
  readonly logs: FileLogStream;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    logFile: string,
  ) {
    this.logs = new FileLogStream(logFile);
  }

  /** Starts all six and waits until each says it is ready. */
  async start(): Promise<void> {
    await Promise.all(SERVICE_NAMES.map((name) => this.launch(name)));
  }

  pid(name: ServiceName): number | undefined {
    return this.current.get(name)?.pid;
  }

  private async launch(name: ServiceName): Promise<number> {
    const started = performance.now();
    const service = new ServiceProcess(name, this.env, this.logs);
    this.current.set(name, service);
    void service.exited.then((exit) => {
      if (this.stopping || this.killed.has(service) || this.current.get(name) !== service) return;
      this.unexpectedExits.push({ service: name, how: describeExit(exit), at: Date.now() });
      this.logs.line('chaos', `${name} exited unexpectedly (${describeExit(exit)}); starting it again`);
      void this.launch(name).catch(() => {});
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        service.ready,
        service.exited.then((exit) =>
          Promise.reject(new Error(`${name} exited (${describeExit(exit)}) before it was ready; see ${this.logs.file}`)),
        ),
        new Promise(
          (_, reject) =>
            (timer = setTimeout(
              () => reject(new Error(`${name} was not ready within ${READY_TIMEOUT_MS / 1000} s; see ${this.logs.file}`)),
              READY_TIMEOUT_MS,
            )),
        ),
      ]);
    } finally {
      clearTimeout(timer);
    }
    return performance.now() - started;
  }

  /** kill -9 of the service's process; resolves with its pid once it is gone. */
  async kill(name: ServiceName): Promise<number> {
    const service = this.current.get(name);
    const pid = service?.pid;
    if (!service || pid === undefined) throw new Error(`${name} is not running`);
    this.killed.add(service);
    this.logs.line('chaos', `kill -9 ${pid} (${name})`);
    process.kill(pid, 'SIGKILL');
    await service.exited;
    return pid;
  }

  /** Starts the service again; resolves with how long it took to be ready. */
  restart(name: ServiceName): Promise<number> {
    this.logs.line('chaos', `starting ${name} again`);
    return this.launch(name);
  }

  /** SIGTERM to each (they finish in-flight work and flush their outbox), SIGKILL past the deadline. */
  async stop(): Promise<void> {
    this.stopping = true;
    const running = [...this.current.values()].filter((s) => !s.hasExited);
    for (const service of running) service.stop();
    const timer = setTimeout(() => running.forEach((s) => s.kill()), STOP_DEADLINE_MS);
    await Promise.all(running.map((s) => s.exited));
    clearTimeout(timer);
    await this.logs.close();
  }
}
