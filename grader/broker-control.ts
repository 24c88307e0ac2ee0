// Restarting a broker for real, for the durability checks. Restarting the broker everyone uses
// would disturb every other test and learner on it, so we prefer, in order:
//   1. a throwaway RabbitMQ node of our own on spare ports (where rabbitmq-server is installed here);
//   2. the broker's own container (testcontainers), restarted inside with rabbitmqctl;
//   3. the local broker itself (rabbitmq stop_app / start_app), announced on screen first, and only
//      when the caller allows it: a learner's `npm run grade` does, the test suite never does.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { type BrokerEndpoint, portAnswers } from '../shared/broker/find-broker.ts';

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

async function commandExists(command: string): Promise<boolean> {
  try {
    await run('sh', ['-c', `command -v ${command}`]);
    return true;
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function rabbitmqctl(node: string | undefined, ...args: string[]): Promise<void> {
  await run('rabbitmqctl', [...(node ? ['-n', node] : []), '-q', ...args], { timeout: 60_000 });
}

/**
 * A RabbitMQ node of our own: its own name, ports, data and log folders, no plugins and no config
 * file (the environment says everything, which also skips a second of boot), so it starts fast.
 */
async function startThrowawayNode(): Promise<RestartableBroker> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grader-rabbit-'));
  const [amqpPort, distPort] = [await freePort(), await freePort()];
  const node = `grader-${process.pid}-${amqpPort}@localhost`;
  const url = `amqp://guest:guest@127.0.0.1:${amqpPort}`;
  const pidFile = path.join(dir, 'pid');
  for (const folder of ['mnesia', 'log']) fs.mkdirSync(path.join(dir, folder));
  fs.writeFileSync(path.join(dir, 'enabled_plugins'), '[].\n');
  fs.chmodSync(dir, 0o755);
  // As root, Debian's rabbitmq-server runs the node as the rabbitmq user: the folder must be theirs.
  if (process.getuid?.() === 0) await run('chown', ['-R', 'rabbitmq:rabbitmq', dir]).catch(() => {});
  const env = {
    ...process.env,
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(amqpPort),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: path.join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(dir, 'log'),
    // Not the machine's /etc/rabbitmq/rabbitmq.conf, whose listener would clash with the main broker.
    RABBITMQ_CONFIG_FILE: path.join(dir, 'no-config'),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, 'enabled_plugins'),
    RABBITMQ_PID_FILE: pidFile,
  };
  // Nothing on it is worth a graceful stop: end the node we started, by its process id.
  const release = async () => {
    const pid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8').trim()) : 0;
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await run('rabbitmq-server', ['-detached'], { env, timeout: 30_000 });
    // `rabbitmqctl await_startup` right now fails: the node has not registered with epmd yet. The
    // listeners open last in the boot, so a port that accepts connections means the node is ready.
    const deadline = Date.now() + 60_000;
    while (!(await portAnswers('127.0.0.1', amqpPort))) {
      if (Date.now() > deadline) throw new Error('the throwaway node did not open its AMQP port within 60 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } catch (error) {
    await release();
    throw error;
  }
  return {
    url,
    description: `a throwaway RabbitMQ node (${node}) started for this check`,
    // stop_app then start_app, in one call of the (slow to start) CLI.
    restart: async () => {
      await run('rabbitmqctl', ['-n', node, '-q', 'eval', 'ok = rabbit:stop(), ok = rabbit:start().'], { env, timeout: 60_000 });
    },
    release,
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
      if ((await commandExists('rabbitmq-server')) && (await commandExists('rabbitmqctl'))) {
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
