// Decides, for every command (start, test, grade), which RabbitMQ broker to use:
//   1. RABBITMQ_URL (and RABBITMQ_MANAGEMENT_URL) when set;
//   2. else a broker answering on localhost:5672 (management on 15672);
//   3. else, where Docker runs, a throwaway RabbitMQ container started through testcontainers;
//   4. else a BrokerNotFoundError that names the three ways to get one.
import net from 'node:net';
import type { Logger } from '../log.ts';
import { credentialsOf, redact } from './broker-url.ts';
import type { ManagementCredentials } from './management-api.ts';

export interface BrokerEndpoint {
  /** amqp://user:password@host:port (the default vhost; callers pick theirs with withVhost). */
  url: string;
  management: ManagementCredentials;
  source: 'environment' | 'localhost' | 'container';
  /** Stops what findBroker started (the container); a no-op for brokers it only found. */
  stop(): Promise<void>;
  /** Restarts the broker keeping its data, where findBroker started it (the container). */
  restart?(): Promise<void>;
}

export class BrokerNotFoundError extends Error {
  constructor(detail: string) {
    super(
      [
        `No RabbitMQ broker found (${detail}). Get one in any of these three ways:`,
        '  1. docker compose up -d                    (starts RabbitMQ with the management UI from docker-compose.yml)',
        '  2. install RabbitMQ and start it           (https://www.rabbitmq.com/docs/download), then',
        '     rabbitmq-plugins enable rabbitmq_management rabbitmq_prometheus',
        '  3. export RABBITMQ_URL=amqp://user:password@host:5672   (and RABBITMQ_MANAGEMENT_URL=http://host:15672)',
      ].join('\n'),
    );
    this.name = 'BrokerNotFoundError';
  }
}

export interface FindBrokerOptions {
  env?: NodeJS.ProcessEnv;
  log?: Logger;
  /** Try testcontainers when nothing else answers (default true). */
  allowContainer?: boolean;
}

const LOCAL_HOST = '127.0.0.1';

export async function findBroker(options: FindBrokerOptions = {}): Promise<BrokerEndpoint> {
  const env = options.env ?? process.env;
  const noop = async () => {};

  if (env.RABBITMQ_URL) {
    const url = env.RABBITMQ_URL;
    const { hostname } = new URL(url);
    return { url, management: managementFor(url, env.RABBITMQ_MANAGEMENT_URL ?? `http://${hostname}:15672`), source: 'environment', stop: noop };
  }

  const username = env.RABBITMQ_USER ?? 'guest';
  const password = env.RABBITMQ_PASSWORD ?? 'guest';
  if (await portAnswers(LOCAL_HOST, 5672)) {
    const url = `amqp://${encodeURIComponent(username)}:${encodeURIComponent(password)}@${LOCAL_HOST}:5672`;
    return { url, management: managementFor(url, env.RABBITMQ_MANAGEMENT_URL ?? `http://${LOCAL_HOST}:15672`), source: 'localhost', stop: noop };
  }

  if (options.allowContainer !== false) {
    const container = await startContainer(username, password, options.log);
    if (container) return container;
  }
  throw new BrokerNotFoundError(`RABBITMQ_URL is not set, nothing answers on ${LOCAL_HOST}:5672, and Docker is not available`);
}

function managementFor(amqpUrl: string, baseUrl: string): ManagementCredentials {
  return { baseUrl, ...credentialsOf(amqpUrl) };
}

export function portAnswers(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (answered: boolean) => {
      socket.destroy();
      resolve(answered);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Starts RabbitMQ with the management and Prometheus plugins in a container, or returns undefined without Docker. */
async function startContainer(username: string, password: string, log?: Logger): Promise<BrokerEndpoint | undefined> {
  const { GenericContainer, Wait, getContainerRuntimeClient } = await import('testcontainers');
  try {
    await getContainerRuntimeClient();
  } catch {
    return undefined; // no Docker engine here
  }
  log?.info('no broker on localhost:5672; starting RabbitMQ in a Docker container (testcontainers)...');
  const container = await new GenericContainer('rabbitmq:3.13-management')
    .withExposedPorts(5672, 15672, 15692)
    .withEnvironment({ RABBITMQ_DEFAULT_USER: username, RABBITMQ_DEFAULT_PASS: password })
    .withCopyContentToContainer([{ content: '[rabbitmq_management,rabbitmq_prometheus].\n', target: '/etc/rabbitmq/enabled_plugins' }])
    .withWaitStrategy(Wait.forLogMessage(/Server startup complete/))
    .withStartupTimeout(120_000)
    .start();
  const host = container.getHost();
  const url = `amqp://${encodeURIComponent(username)}:${encodeURIComponent(password)}@${host}:${container.getMappedPort(5672)}`;
  log?.info(`RabbitMQ container ready at ${redact(url)} (management on port ${container.getMappedPort(15672)})`);
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
