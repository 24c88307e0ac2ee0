// `npm run service -- <name>`: runs one service as its own process. `npm start` runs six of these.
import { findBroker } from '../shared/broker/find-broker.ts';
import { defineCli, parseOrExit, runMain, UsageError } from '../shared/cli/args.ts';
import { readEnv } from '../shared/config.ts';
import type { Layers } from '../shared/layers/index.ts';
import { SERVICE_NAMES, ServiceName } from '../shared/messages/events.ts';
import { createLogger, serviceLogSink } from '../shared/log.ts';
import { identityFor, readUsersFile } from './broker-users/users-file.ts';
import { composeLayers, learnerLayers } from './layers/compose.ts';
import { serviceConfigFromEnv } from './runtime/service-config.ts';
import { ServiceRuntime } from './runtime/service-runtime.ts';
import { SERVICES } from './services/index.ts';
import { withTransientFailures } from './services/transient-failures.ts';

const SERVICE_CLI = defineCli({
  command: 'npm run service',
  synopsis: [`npm run service -- <${SERVICE_NAMES.join('|')}>`],
  summary: `Runs one service of the order system in the foreground, as npm start runs each of the six.
It reads the same environment variables and finds the broker the same way, but never starts one.
WORKSHOP_LAYERS=mine runs it on your layers, from milestones/.`,
  positionals: { name: '<service>', description: 'which service', min: 1, max: 1, choices: SERVICE_NAMES },
});

const name = ServiceName.parse(parseOrExit(SERVICE_CLI).positionals[0]);
const log = createLogger(name, serviceLogSink(name));

// WORKSHOP_LAYERS=mine (npm start -- --layers mine): the learner's nine layers from milestones/.
const layerSource = process.env.WORKSHOP_LAYERS ?? 'solutions';

async function chooseLayers(): Promise<Layers> {
  if (layerSource === 'solutions') return composeLayers();
  const layers = await learnerLayers();
  log.info('running on your layers, from milestones/');
  return layers;
}

async function main(): Promise<void> {
  if (layerSource !== 'solutions' && layerSource !== 'mine') {
    throw new UsageError(
      `WORKSHOP_LAYERS is "${layerSource}": it takes "mine" (your layers, from milestones/) or "solutions" (the reference)`,
      '',
      'npm run service',
    );
  }
  const env = readEnv();
  // One process never starts a broker of its own: six services need the same one (npm start finds it).
  const broker = await findBroker({ log, mayStartBroker: false });
  // BROKER_USERS_FILE (npm run broker:setup): this service logs in as its own, least-privileged user.
  const identity = env.BROKER_USERS_FILE
    ? identityFor(readUsersFile(env.BROKER_USERS_FILE), name, broker.url, broker.failoverUrls)
    : undefined;
  const config = identity
    ? {
        ...serviceConfigFromEnv(env, identity.brokerUrl, broker.management.baseUrl, identity.failoverUrls, name),
        brokerUsers: identity.brokerUsers,
      }
    : serviceConfigFromEnv(env, broker.url, broker.management.baseUrl, broker.failoverUrls, name);
  if (identity) log.info(`logging in as broker user ${identity.brokerUsers[name]} (least privilege, ${env.BROKER_USERS_FILE})`);
  // CHAOS_FAILURE_RATE (npm run chaos): the handlers fail transiently at that rate first.
  const runtime = await ServiceRuntime.start(
    withTransientFailures(SERVICES[name], env.CHAOS_FAILURE_RATE),
    config,
    await chooseLayers(),
    log,
  );
  process.send?.({ type: 'ready', service: name, httpPort: runtime.httpPort, metricsPort: runtime.metricsPort });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      log.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    log.info(`${signal} received`);
    runtime.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error('shutdown failed', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // Started by `npm start`: if the supervisor dies, do not linger as an orphan.
  process.on('disconnect', () => shutdown('supervisor gone'));
}

// No broker: exit 3; layers of the learner's that do not load: 1; a port taken: 3; a bug: 4 (shared/cli/errors.ts).
await runMain(main);
