// `npm start`: the whole order system in one terminal. Finds a RabbitMQ broker, runs each service
// as its own process (as in production: they share nothing but the broker), merges their logs,
// and stops everything cleanly on Ctrl-C.
import { redact } from '../shared/broker/broker-url.ts';
import { BrokerNotFoundError, findBroker, portAnswers, type BrokerEndpoint } from '../shared/broker/find-broker.ts';
import { ManagementApi } from '../shared/broker/management-api.ts';
import { type EnvConfig, readEnv } from '../shared/config.ts';
import { createLogger, describeError } from '../shared/log.ts';
import { LAYER_MILESTONES } from '../shared/layers/index.ts';
import { loadProgress } from '../shared/workshop/progress.ts';
import { parseStartArgs, USAGE, UsageError, type StartOptions } from './supervisor/args.ts';
import { banner } from './supervisor/banner.ts';
import { createLogStream } from './supervisor/log-stream.ts';
import { ServiceGroup } from './supervisor/service-group.ts';
import { launchDashboard } from './supervisor/dashboard-process.ts';
import { checkPorts, wantedPorts } from './supervisor/ports.ts';
import { describeExit, type ServiceProcess } from './supervisor/service-process.ts';

const READY_TIMEOUT_MS = 60_000;
const STOP_DEADLINE_MS = 15_000;

const logs = createLogStream();
const log = createLogger('start', { out: (line) => logs.line('start', line), err: (line) => logs.line('start', line) });

/** A problem the learner can fix: the message alone, no stack trace. */
function fail(message: string, exitCode = 1): never {
  process.stderr.write(`${message}\n`);
  process.exit(exitCode);
}

let options: StartOptions;
try {
  options = parseStartArgs(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) fail(`${error.message}\n\n${USAGE}`, 2);
  throw error;
}
if (options.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

if (options.layers === 'mine') {
  // A warning, not a refusal: a learner may want to see how far their layers carry the system.
  const progress = loadProgress();
  // The optional milestone's layer (10, streams) is used only with AUDIT_STREAM=on: it counts then.
  const used = LAYER_MILESTONES.filter((m) => !m.optional || process.env.AUDIT_STREAM === 'on');
  const notPassed = used.filter((m) => !progress.passed[m.number]);
  log.info('layers: yours, from milestones/ (--layers mine)');
  if (notPassed.length > 0) {
    const which =
      notPassed.length === used.length
        ? 'no milestone has'
        : `milestone${notPassed.length === 1 ? '' : 's'} ${notPassed.map((m) => m.number).join(', ')} ${notPassed.length === 1 ? 'has' : 'have'} not`;
    log.warn(
      `${which} passed yet (npm run milestone shows where you are): where the system needs those layers, it will fail. npm start alone runs the reference.`,
    );
  }
  // Load them once here: a file that does not load is one clear message, not six.
  const { learnerLayers } = await import('./layers/compose.ts');
  await learnerLayers().catch((error: unknown) => fail(`[start] ${describeError(error)}`));
}

let env: EnvConfig;
try {
  env = readEnv(); // validates every setting now, before six services each trip over a bad one
} catch (error) {
  fail(`[start] ${describeError(error)}`);
}
const httpPort = env.HTTP_PORT;

// Before the broker and any service: a port already taken (most often by another npm start) stops us
// here, naming its holder, rather than after a service has joined the live queues.
const ports = await checkPorts(wantedPorts(env, options.services, options.dashboard));
for (const warning of ports.warnings) log.warn(`${warning}: that service serves /metrics on a free port instead`);
if (ports.blocking.length > 0) {
  fail(
    [
      ...ports.blocking.map((line) => `[start] ${line}`),
      '[start] Stop what holds it (another npm start: Ctrl-C in its terminal), or give this one other ports,',
      '[start] e.g. HTTP_PORT=8090 DASHBOARD_PORT=8091 METRICS_PORT=9201 npm start. Nothing was started.',
    ].join('\n'),
  );
}

let broker: BrokerEndpoint | undefined;
let group: ServiceGroup | undefined;
let dashboard: ServiceProcess | undefined;
let stopping: Promise<never> | undefined;

/** Stops every service (SIGTERM, SIGKILL past the deadline) and the broker container if we started one, then exits. */
function stopEverything(reason: string, exitCode: number): Promise<never> {
  stopping ??= (async () => {
    log.info(reason);
    dashboard?.stop();
    const clean = group ? await group.stop(STOP_DEADLINE_MS, log) : true;
    await dashboard?.exited;
    if (broker?.source === 'container' || broker?.throwawayNode) {
      const what = broker.throwawayNode ? 'the throwaway RabbitMQ node' : 'the RabbitMQ container';
      log.info(`stopping ${what}...`);
      await broker.stop().catch((error: unknown) => log.error(`could not stop ${what}`, error));
    }
    log.info(clean ? 'all stopped' : 'stopped, but not every service shut down cleanly (see above)');
    process.exit(clean ? exitCode : 1);
  })();
  return stopping;
}

// Wrappers (npm, tsx, timeout) may pass on the one Ctrl-C the terminal already delivered to us, so
// a signal within this window of the first counts as the same one, not as "force".
const DUPLICATE_SIGNAL_WINDOW_MS = 500;
let firstSignalAt: number | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (firstSignalAt === undefined) {
      firstSignalAt = Date.now();
      void stopEverything(`${signal} received: stopping services (press Ctrl-C again to force)`, 0);
      return;
    }
    if (Date.now() - firstSignalAt < DUPLICATE_SIGNAL_WINDOW_MS) return;
    log.warn(`${signal} again: killing every service and exiting now`);
    group?.killAll();
    process.exit(130);
  });
}
// The services run in their own process groups, so make sure none outlives the supervisor.
process.on('exit', () => {
  group?.killAll();
  dashboard?.kill();
});

try {
  broker = await findBroker({ log });
} catch (error) {
  if (error instanceof BrokerNotFoundError) fail(error.message);
  throw error;
}
const source = {
  environment: 'from RABBITMQ_URL',
  localhost: 'found on localhost',
  container: 'in a Docker container started for this run; Ctrl-C removes it',
};
const where = broker.throwawayNode
  ? `a throwaway node of its own, ${broker.throwawayNode}, started for this run; Ctrl-C removes it`
  : source[broker.source];
log.info(`RabbitMQ at ${redact(broker.url)} (${where})`);

if (broker.source === 'environment') {
  // findBroker trusts RABBITMQ_URL; say plainly when nothing is there instead of six services failing
  // at once. With a list of cluster nodes, one answering is enough: the services fail over to it.
  const nodes = [broker.url, ...(broker.failoverUrls ?? [])];
  const addresses = nodes.map((node) => {
    const url = new URL(node);
    return { host: url.hostname, port: Number(url.port || (url.protocol === 'amqps:' ? 5671 : 5672)) };
  });
  const answering = await Promise.all(addresses.map(({ host, port }) => portAnswers(host, port, 3000)));
  if (!answering.includes(true)) {
    const where = addresses.map(({ host, port }) => `${host}:${port}`).join(', ');
    fail(`[start] nothing answers at ${where} (RABBITMQ_URL=${nodes.map(redact).join(',')}). Is the broker running there?`);
  }
  if (nodes.length > 1)
    log.info(`${answering.filter(Boolean).length} of ${nodes.length} cluster nodes answer; the services fail over between them`);
}

// Asked while the services start: the answer only decides a warning and a line of the banner.
const management = broker.management;
const managementAsked = new ManagementApi(management).overview().then(
  () => true,
  () => false,
);
void managementAsked.then((reachable) => {
  if (!reachable)
    log.warn(
      `the management API does not answer at ${management.baseUrl}; the services run without it, but the UI and monitoring will not work`,
    );
});

log.info(`starting ${options.services.join(', ')}...`);
const serviceEnv = {
  ...process.env,
  RABBITMQ_URL: [broker.url, ...(broker.failoverUrls ?? [])].join(','),
  RABBITMQ_MANAGEMENT_URL: broker.management.baseUrl,
  WORKSHOP_LAYERS: options.layers,
};
const withOrderApi = (port: number) => ({ ...serviceEnv, ORDER_API_URL: `http://127.0.0.1:${port}` });
group = new ServiceGroup(options.services, serviceEnv, logs);
// The dashboard starts beside the services when it can be told the HTTP API's address now; with
// HTTP_PORT=0 only the order service, once ready, knows it.
let launched = options.dashboard && httpPort !== 0 ? launchDashboard(withOrderApi(httpPort), logs, group, log) : undefined;
dashboard = launched?.process;
const outcome = await group.waitUntilReady(READY_TIMEOUT_MS);
if (stopping) await stopping; // Ctrl-C while starting
if (outcome.kind === 'timeout') {
  await stopEverything(`not ready after ${READY_TIMEOUT_MS / 1000} s: ${outcome.notReady.join(', ')}; stopping all services`, 1);
}
if (outcome.kind === 'exited') {
  await stopEverything(`${outcome.service} exited (${describeExit(outcome.exit)}) before it was ready; stopping all services`, 1);
}

const reportedPort = group.services.find((service) => service.name === 'order')?.httpPort;
if (options.dashboard) {
  launched ??= launchDashboard(withOrderApi(reportedPort ?? httpPort), logs, group, log);
  dashboard = launched.process;
  dashboard = await launched.ready;
  if (stopping) await stopping;
}
const managementReachable = await managementAsked;
process.stdout.write(
  banner({
    services: options.services,
    httpPort: reportedPort ?? httpPort,
    management: { baseUrl: broker.management.baseUrl, username: broker.management.username, reachable: managementReachable },
    dashboardUrl: dashboard?.url,
    metricsPorts: Object.fromEntries(group.services.map((service) => [service.name, service.metricsPort])),
    brokerUsersFile: process.env.BROKER_USERS_FILE,
  }),
);

const died = await group.unexpectedExit;
await stopEverything(`${died.service} exited unexpectedly (${describeExit(died.exit)}); stopping all services`, 1);
