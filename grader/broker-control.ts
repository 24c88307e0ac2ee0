// Restarting a broker for real, for the durability checks. Restarting the broker everyone uses
// would disturb every other test and learner on it, so we prefer, in order:
//   1. a throwaway RabbitMQ node of our own on spare ports (where rabbitmq-server is installed here);
//   2. the broker's own container (testcontainers), restarted inside with rabbitmqctl;
//   3. the local broker itself (rabbitmq stop_app / start_app), announced on screen first, and only
//      when the caller allows it: a learner's `npm run grade` does, the test suite never does.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { BrokerEndpoint } from '../shared/broker/find-broker.ts';
import { commandExists, rabbitmqServerInstalled, startThrowawayNode as startNode } from '../shared/broker/throwaway-node.ts';

const run = promisify(execFile);

export class BrokerControlUnavailableError extends Error {
  constructor(detail: string) {
    super(`this check restarts a broker, and none can be restarted here: ${detail}`);
    this.name = 'BrokerControlUnavailableError';
  }
}

export interface RestartableBroker {
  /** AMQP URL (default vhost) of a broker the check may restart. */
  url: string;
  /** Said on screen before the restart. */
  description: string;
  restart(): Promise<void>;
  /** Stops and removes what acquire started. */
  release(): Promise<void>;
}

export interface BrokerControl {
  acquireRestartable(): Promise<RestartableBroker>;
}

async function rabbitmqctl(node: string | undefined, ...args: string[]): Promise<void> {
  await run('rabbitmqctl', [...(node ? ['-n', node] : []), '-q', ...args], { timeout: 60_000 });
}

/**
 * A RabbitMQ node of our own (shared/broker/throwaway-node.ts, the same code findBroker starts a
 * broker with): no plugins and no config file, so it starts fast.
 */
async function startThrowawayNode(): Promise<RestartableBroker> {
  const node = await startNode({ prefix: 'grader' });
  return {
    url: node.url,
    description: `a throwaway RabbitMQ node (${node.node}) started for this check`,
    restart: node.restart,
    release: node.stop,
  };
}

export interface BrokerControlOptions {
  /** May the shared local broker be restarted when no throwaway node can be started? */
  allowSharedRestart: boolean;
}

export function brokerControlFor(broker: BrokerEndpoint, options: BrokerControlOptions): BrokerControl {
  return {
    async acquireRestartable() {
      let throwawayProblem = 'rabbitmq-server is not installed on this machine';
      if (await rabbitmqServerInstalled()) {
        try {
          return await startThrowawayNode();
        } catch (error) {
          throwawayProblem = `a throwaway node did not start (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`;
        }
      }
      if (broker.restart) {
        const restart = broker.restart;
        return { url: broker.url, description: 'the RabbitMQ container', restart, release: async () => {} };
      }
      const { hostname } = new URL(broker.url);
      const local = ['127.0.0.1', 'localhost', '::1'].includes(hostname);
      if (local && !options.allowSharedRestart) throw new BrokerControlUnavailableError(`${throwawayProblem}, and restarting the shared broker is not allowed here`);
      if (local && (await commandExists('rabbitmqctl'))) {
        return {
          url: broker.url,
          description: 'your local RabbitMQ broker (rabbitmqctl stop_app, then start_app; durable queues and persistent messages are kept)',
          restart: async () => {
            await rabbitmqctl(undefined, 'stop_app');
            await rabbitmqctl(undefined, 'start_app');
          },
          release: async () => {},
        };
      }
      throw new BrokerControlUnavailableError(
        `the broker at ${hostname} is not on this machine. Run a local broker (docker compose up -d) to grade this check`,
      );
    },
  };
}
