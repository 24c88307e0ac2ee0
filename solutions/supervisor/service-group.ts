// The services `npm start` runs, as one group: start them all, wait until every one is ready,
// notice one that dies, stop and start one on request (the dashboard's buttons), and stop them all
// within a deadline.
import type { ServiceName } from '../../shared/messages/events.ts';
import type { Logger } from '../../shared/log.ts';
import type { LogStream } from './log-stream.ts';
import { describeExit, ServiceProcess, type ServiceExit } from './service-process.ts';

export type ReadyOutcome =
  { kind: 'ready' } | { kind: 'timeout'; notReady: ServiceName[] } | { kind: 'exited'; service: ServiceName; exit: ServiceExit };

export type ServiceState = 'running' | 'stopped' | 'starting' | 'stopping';

export class ServiceGroup {
  private readonly current = new Map<ServiceName, ServiceProcess>();
  private readonly state = new Map<ServiceName, ServiceState>();
  private readonly listeners: Array<() => void> = [];
  private resolveUnexpected!: (exit: { service: ServiceName; exit: ServiceExit }) => void;
  /** Settles with the first service that exits without being asked to. */
  readonly unexpectedExit: Promise<{ service: ServiceName; exit: ServiceExit }>;

  constructor(
    names: readonly ServiceName[],
    private readonly env: NodeJS.ProcessEnv,
    private readonly logs: LogStream,
  ) {
    this.unexpectedExit = new Promise((resolve) => (this.resolveUnexpected = resolve));
    for (const name of names) this.launch(name);
  }

  /** The processes running now, in the order they were named. */
  get services(): ServiceProcess[] {
    return [...this.current.values()];
  }

  states(): Record<ServiceName, ServiceState> {
    return Object.fromEntries(this.state) as Record<ServiceName, ServiceState>;
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  private setState(name: ServiceName, state: ServiceState): void {
    this.state.set(name, state);
    for (const listener of this.listeners) listener();
  }

  private launch(name: ServiceName): ServiceProcess {
    const service = new ServiceProcess(name, this.env, this.logs);
    this.current.set(name, service);
    this.setState(name, 'starting');
    void service.ready.then(() => this.setState(name, 'running'));
    void service.exited.then((exit) => {
      if (this.current.get(name) === service) this.setState(name, 'stopped');
      if (!service.stopRequested) this.resolveUnexpected({ service: name, exit });
    });
    return service;
  }

  async waitUntilReady(timeoutMs: number): Promise<ReadyOutcome> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<ReadyOutcome>((resolve) => {
      timer = setTimeout(
        () => resolve({ kind: 'timeout', notReady: this.services.filter((s) => !s.isReady).map((s) => s.name as ServiceName) }),
        timeoutMs,
      );
    });
    const allReady = Promise.all(this.services.map((s) => s.ready)).then((): ReadyOutcome => ({ kind: 'ready' }));
    const exited = this.unexpectedExit.then((e): ReadyOutcome => ({ kind: 'exited', ...e }));
    try {
      return await Promise.race([allReady, exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops one service on purpose (its queue fills while it is away): not an unexpected exit. */
  async stopService(name: ServiceName, log: Logger): Promise<void> {
    const service = this.current.get(name);
    if (!service || this.state.get(name) !== 'running')
      throw new Error(`${name} is ${this.state.get(name) ?? 'not part of this run'}, not running`);
    log.info(`stopping ${name} (asked by the dashboard)`);
    this.setState(name, 'stopping');
    service.stop();
    await service.exited;
  }

  /** Starts a service stopped with stopService again, and waits until it is ready. */
  async startService(name: ServiceName, log: Logger): Promise<void> {
    if (this.state.get(name) !== 'stopped') throw new Error(`${name} is ${this.state.get(name) ?? 'not part of this run'}, not stopped`);
    log.info(`starting ${name} again (asked by the dashboard)`);
    const service = this.launch(name);
    await Promise.race([
      service.ready,
      service.exited.then((exit) => Promise.reject(new Error(`${name} exited (${describeExit(exit)}) before it was ready`))),
    ]);
  }

  /** SIGTERM to every service, then SIGKILL for any still running after `deadlineMs`. True when all exited cleanly in time. */
  async stop(deadlineMs: number, log: Logger): Promise<boolean> {
    const running = this.services.filter((s) => !s.hasExited);
    for (const service of running) service.stop();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), deadlineMs);
    });
    const exits = Promise.all(running.map((s) => s.exited));
    let clean = true;
    const killed = new Set<ServiceProcess>();
    if ((await Promise.race([exits, deadline])) === 'deadline') {
      const stragglers = running.filter((s) => !s.hasExited);
      log.warn(
        `${stragglers.map((s) => s.name).join(', ')} did not stop within ${deadlineMs / 1000} s; killing ${stragglers.length === 1 ? 'it' : 'them'}`,
      );
      for (const service of stragglers) {
        service.kill();
        killed.add(service);
      }
      clean = false;
    }
    clearTimeout(timer);
    for (const [index, exit] of (await exits).entries()) {
      const service = running[index];
      // One still starting may not handle SIGTERM yet: dying of it then is the expected way to stop.
      const expected = exit.code === 0 || (!service?.isReady && exit.signal === 'SIGTERM');
      if (service && !killed.has(service) && !expected) {
        log.warn(`${service.name} did not shut down cleanly (${describeExit(exit)})`);
        clean = false;
      }
    }
    return clean;
  }

  /** For a second Ctrl-C and for the supervisor's own exit: nothing may outlive it. */
  killAll(): void {
    for (const service of this.services) service.kill();
  }
}
