// Decides, for every command (start, test, grade), which RabbitMQ broker to use:
//   1. RABBITMQ_URL (and RABBITMQ_MANAGEMENT_URL) when set;
//   2. else a broker answering on localhost:5672 (management on 15672);
//   3. else, where rabbitmq-server is installed (and not running), a throwaway node of our own on
//      spare ports, with the management and Prometheus plugins (shared/broker/throwaway-node.ts);
//   4. else, where Docker runs, a throwaway RabbitMQ container started through testcontainers;
//   5. else a BrokerNotFoundError that names the three ways to get one.
// Whatever it starts, it says so on screen, and stop() (or the end of the process) removes it.
import { EnvironmentError } from '../cli/errors.ts';
import { createLogger, describeError, type Logger } from '../log.ts';
import { credentialsOf, redact, splitBrokerUrls } from './broker-url.ts';
import type { ManagementCredentials } from './management-api.ts';
import { portAnswers } from './ports.ts';
import { rabbitmqServerInstalled, startThrowawayNode } from './throwaway-node.ts';

export { portAnswers } from './ports.ts';

/** The image of the throwaway container, as in docker-compose.yml: the newest 4.x, the series in community support. */
export const RABBITMQ_IMAGE = 'rabbitmq:4-management';

export interface BrokerEndpoint {
  /** amqp://user:password@host:port (the default vhost; callers pick theirs with withVhost). */
  url: string;
  /** The other nodes of a cluster RABBITMQ_URL listed, to fail over to when `url`'s node stops answering. */
  failoverUrls?: string[];
  management: ManagementCredentials;
  /** A throwaway node findBroker started on this machine is 'localhost' too, with throwawayNode set. */
  source: 'environment' | 'localhost' | 'container';
  /** Set when findBroker started a RabbitMQ node of its own on this machine: its Erlang node name. */
  throwawayNode?: string;
  /** Stops what findBroker started (the throwaway node or container); a no-op for brokers it only found. */
  stop(): Promise<void>;
  /** Restarts the broker keeping its data, where findBroker started it (the throwaway node or container). */
  restart?(): Promise<void>;
}

/** No broker answers and none could be started: the environment's fault (exit 3), never the learner's. */
export class BrokerNotFoundError extends EnvironmentError {
  constructor(detail: string) {
    super(
      [
        `No RabbitMQ broker found (${detail}). Get one in any of these three ways:`,
        '  1. docker compose up -d                    (starts RabbitMQ with the management UI from docker-compose.yml)',
        '  2. install RabbitMQ and start it           (https://www.rabbitmq.com/docs/download), then',
        '     rabbitmq-plugins enable rabbitmq_management rabbitmq_prometheus',
        '     (installed but not started, a throwaway node of our own is started for each command)',
        '  3. export RABBITMQ_URL=amqp://user:password@host:5672   (and RABBITMQ_MANAGEMENT_URL=http://host:15672)',
      ].join('\n'),
    );
    this.name = 'BrokerNotFoundError';
  }
}

export interface FindBrokerOptions {
  env?: NodeJS.ProcessEnv;
  /** Where to say that a broker is being started (default: stdout and stderr, prefixed [broker]). */
  log?: Logger;
  /**
   * May findBroker start a broker of its own when nothing answers: a throwaway node where
   * rabbitmq-server is installed, else a container (default true)? One service never does.
   */
  mayStartBroker?: boolean;
  /** Of those, may it start a container, after the throwaway node (default true; tests turn it off)? */
  mayStartContainer?: boolean;
  /** Where a local broker is looked for (default 5672, management 15672); tests point it elsewhere. */
  localPorts?: { amqp: number; management: number };
}

const LOCAL_HOST = '127.0.0.1';

export async function findBroker(options: FindBrokerOptions = {}): Promise<BrokerEndpoint> {
  const env = options.env ?? process.env;
  const noop = async () => {};

  if (env.RABBITMQ_URL) {
    const [url, ...failoverUrls] = splitBrokerUrls(env.RABBITMQ_URL);
    if (!url) throw new BrokerNotFoundError('RABBITMQ_URL is set but names no URL');
    const { hostname } = new URL(url);
    const management = managementFor(url, env.RABBITMQ_MANAGEMENT_URL ?? `http://${hostname}:15672`);
    return { url, failoverUrls, management, source: 'environment', stop: noop };
  }

  const username = env.RABBITMQ_USER ?? 'guest';
  const password = env.RABBITMQ_PASSWORD ?? 'guest';
  const ports = options.localPorts ?? { amqp: 5672, management: 15672 };
  if (await portAnswers(LOCAL_HOST, ports.amqp)) {
    const url = `amqp://${encodeURIComponent(username)}:${encodeURIComponent(password)}@${LOCAL_HOST}:${ports.amqp}`;
    return {
      url,
      management: managementFor(url, env.RABBITMQ_MANAGEMENT_URL ?? `http://${LOCAL_HOST}:${ports.management}`),
      source: 'localhost',
      stop: noop,
    };
  }

  const nothing = `RABBITMQ_URL is not set, nothing answers on ${LOCAL_HOST}:${ports.amqp}`;
  if (options.mayStartBroker === false) throw new BrokerNotFoundError(nothing);
  const log = options.log ?? createLogger('broker');
  const problems: string[] = [];
  if (await rabbitmqServerInstalled()) {
    try {
      return await startNode(ports.amqp, log);
    } catch (error) {
      const problem = describeError(error).split('\n')[0];
      log.warn(`the throwaway RabbitMQ node did not start: ${problem}`);
      problems.push(`a throwaway node did not start (${problem})`);
    }
  } else {
    problems.push('rabbitmq-server is not installed');
  }
  if (options.mayStartContainer !== false) {
    const container = await startContainer(username, password, log);
    if (container) return container;
  }
  problems.push('Docker is not available');
  throw new BrokerNotFoundError(`${nothing}, ${problems.join(', ')}`);
}

/**
 * A throwaway node of our own (the same code as milestone 4's restartable broker), with the plugins
 * every command needs. It logs in as guest, which RabbitMQ allows from localhost.
 */
async function startNode(localPort: number, log: Logger): Promise<BrokerEndpoint> {
  log.info(
    `nothing answers on ${LOCAL_HOST}:${localPort}, but rabbitmq-server is installed: starting a throwaway RabbitMQ node of our own on spare ports...`,
  );
  const node = await startThrowawayNode({ prefix: 'workshop', plugins: ['rabbitmq_management', 'rabbitmq_prometheus'] });
  log.info(
    `throwaway RabbitMQ node ${node.node} ready at ${redact(node.url)}, management on ${node.managementUrl} ` +
      `(plugins: ${node.plugins.join(', ')}); it is removed when this command ends`,
  );
  return {
    url: node.url,
    management: managementFor(node.url, node.managementUrl!),
    source: 'localhost',
    throwawayNode: node.node,
    stop: node.stop,
    restart: node.restart,
  };
}

function managementFor(amqpUrl: string, baseUrl: string): ManagementCredentials {
  return { baseUrl, ...credentialsOf(amqpUrl) };
}

/** Starts RabbitMQ with the management and Prometheus plugins in a container, or returns undefined without Docker. */
async function startContainer(username: string, password: string, log: Logger): Promise<BrokerEndpoint | undefined> {
  const { GenericContainer, Wait, getContainerRuntimeClient } = await import('testcontainers');
  try {
    await getContainerRuntimeClient();
  } catch {
    return undefined; // no Docker engine here
  }
  log.info('no broker on localhost; starting RabbitMQ in a Docker container (testcontainers)...');
  const container = await new GenericContainer(RABBITMQ_IMAGE)
    .withExposedPorts(5672, 15672, 15692)
    .withEnvironment({ RABBITMQ_DEFAULT_USER: username, RABBITMQ_DEFAULT_PASS: password })
    .withCopyContentToContainer([
      { content: '[rabbitmq_management,rabbitmq_prometheus].\n', target: '/etc/rabbitmq/enabled_plugins' },
      // As docker/rabbitmq/rabbitmq.conf: statistics every second, and (4.3 refuses them by default)
      // the transient non-exclusive scratch queues some grader checks still declare.
      {
        content: 'collect_statistics_interval = 1000\ndeprecated_features.permit.transient_nonexcl_queues = true\n',
        target: '/etc/rabbitmq/conf.d/90-workshop.conf',
      },
    ])
    .withWaitStrategy(Wait.forLogMessage(/Server startup complete/))
    .withStartupTimeout(120_000)
    .start();
  const host = container.getHost();
  const url = `amqp://${encodeURIComponent(username)}:${encodeURIComponent(password)}@${host}:${container.getMappedPort(5672)}`;
  log.info(`RabbitMQ container ready at ${redact(url)} (management on port ${container.getMappedPort(15672)})`);
  return {
    url,
    management: { baseUrl: `http://${host}:${container.getMappedPort(15672)}`, username, password },
    source: 'container',
    stop: async () => {
      await container.stop();
    },
    // Inside the container, so its mapped ports stay the same.
    restart: async () => {
      for (const command of ['stop_app', 'start_app']) {
        const result = await container.exec(['rabbitmqctl', '-q', command]);
        if (result.exitCode !== 0) throw new Error(`rabbitmqctl ${command} in the container failed: ${result.output}`);
      }
    },
  };
}
