// The live dashboard as a child of `npm start`: started beside the services (or once they are ready,
// when the HTTP API's port is not known before: HTTP_PORT=0), told about every change of a
// service's state, and the one that may ask the supervisor to stop or start a service. Its failure
// is a warning, never a reason to stop the system.
import { fileURLToPath } from 'node:url';
import { ServiceName } from '../../shared/messages/events.ts';
import type { Logger } from '../../shared/log.ts';
import type { ControlRequest } from '../dashboard/supervisor-control.ts';
import type { LogStream } from './log-stream.ts';
import type { ServiceGroup } from './service-group.ts';
import { describeExit, ServiceProcess, startBundle } from './service-process.ts';

const RUN_DASHBOARD = fileURLToPath(new URL('../dashboard/run-dashboard.ts', import.meta.url));
const READY_TIMEOUT_MS = 30_000;

/** The dashboard's process, and what it came to: itself once ready, or undefined when it did not start. */
export interface LaunchedDashboard {
  process: ServiceProcess;
  ready: Promise<ServiceProcess | undefined>;
}

export function launchDashboard(env: NodeJS.ProcessEnv, logs: LogStream, group: ServiceGroup, log: Logger): LaunchedDashboard {
  const dashboard = new ServiceProcess('dashboard', env, logs, { script: RUN_DASHBOARD, args: [], bundled: startBundle(env)?.dashboard });
  dashboard.onMessage((message) => {
    const request = message as ControlRequest;
    if (request?.type !== 'service-control') return;
    const service = ServiceName.safeParse(request.service);
    const act = !service.success
      ? Promise.reject(new Error(`no service ${String(request.service)}`))
      : request.action === 'stop'
        ? group.stopService(service.data, log)
        : group.startService(service.data, log);
    act.then(
      () => dashboard.send({ type: 'service-control-result', id: request.id }),
      (error: unknown) =>
        dashboard.send({ type: 'service-control-result', id: request.id, error: error instanceof Error ? error.message : String(error) }),
    );
  });
  const tell = () => dashboard.send({ type: 'service-states', states: group.states() });
  group.onChange(tell);
  return { process: dashboard, ready: whenReady(dashboard, tell, log) };
}

async function whenReady(dashboard: ServiceProcess, tell: () => void, log: Logger): Promise<ServiceProcess | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    dashboard.ready.then(() => 'ready' as const),
    dashboard.exited.then((exit) => describeExit(exit)),
    new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), READY_TIMEOUT_MS))),
  ]);
  clearTimeout(timer);
  if (outcome !== 'ready') {
    if (!dashboard.stopRequested)
      log.warn(
        `the dashboard did not start (${outcome === 'timeout' ? `not ready after ${READY_TIMEOUT_MS / 1000} s` : outcome}); the system runs without it`,
      );
    dashboard.kill();
    return undefined;
  }
  tell();
  void dashboard.exited.then((exit) => {
    if (!dashboard.stopRequested)
      log.warn(`the dashboard exited (${describeExit(exit)}); the services go on. npm run dashboard starts one on its own`);
  });
  return dashboard;
}
