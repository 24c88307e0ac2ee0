// The services `npm start` runs, as one group: start them all, wait until every one is ready,
// notice one that dies, and stop them all within a deadline.
import type { ServiceName } from '../../shared/messages/events.ts';
import type { Logger } from '../../shared/log.ts';
import type { LogStream } from './log-stream.ts';
import { describeExit, ServiceProcess, type ServiceExit } from './service-process.ts';

export type ReadyOutcome = { kind: 'ready' } | { kind: 'timeout'; notReady: ServiceName[] } | { kind: 'exited'; service: ServiceName; exit: ServiceExit };

export class ServiceGroup {
  readonly services: ServiceProcess[];
  /** Settles with the first service that exits without being asked to. */
  readonly unexpectedExit: Promise<{ service: ServiceName; exit: ServiceExit }>;

  constructor(names: readonly ServiceName[], env: NodeJS.ProcessEnv, logs: LogStream) {
    this.services = names.map((name) => new ServiceProcess(name, env, logs));
    this.unexpectedExit = new Promise((resolve) => {
      for (const service of this.services) {
        void service.exited.then((exit) => {
          if (!service.stopRequested) resolve({ service: service.name, exit });
        });
      }
    });
  }

  async waitUntilReady(timeoutMs: number): Promise<ReadyOutcome> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<ReadyOutcome>((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'timeout', notReady: this.services.filter((s) => !s.isReady).map((s) => s.name) }), timeoutMs);
    });
    const allReady = Promise.all(this.services.map((s) => s.ready)).then((): ReadyOutcome => ({ kind: 'ready' }));
    const exited = this.unexpectedExit.then((e): ReadyOutcome => ({ kind: 'exited', ...e }));
    try {
      return await Promise.race([allReady, exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
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
      log.warn(`${stragglers.map((s) => s.name).join(', ')} did not stop within ${deadlineMs / 1000} s; killing ${stragglers.length === 1 ? 'it' : 'them'}`);
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
