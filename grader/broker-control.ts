// Restarting a broker for real, for the durability checks. Restarting the broker everyone uses
// would disturb every other test and learner on it, so we prefer, in order:
//   1. a throwaway RabbitMQ node of our own on spare ports (where rabbitmq-server is installed here),
//      given up to 2 minutes to boot (a slow laptop) and one more try when it ended during its boot;
//   2. the broker's own container (testcontainers), restarted inside with rabbitmqctl;
//   3. the learner's own local broker (rabbitmqctl stop_app / start_app), only with their yes: asked
//      on their terminal, or given up front with `npm run grade -- 4 --restart-my-broker`. Without a
//      yes (tests, CI, no terminal, an answer of no) the check reports "could not check", saying how.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { BrokerEndpoint } from '../shared/broker/find-broker.ts';
import {
  commandExists,
  rabbitmqServerInstalled,
  startThrowawayNode as startNode,
  ThrowawayNodeTimeoutError,
} from '../shared/broker/throwaway-node.ts';
import { CannotJudgeError } from './check.ts';

const run = promisify(execFile);

/** No broker may be restarted here: the check cannot judge (an "error", never a fail). */
export class BrokerControlUnavailableError extends CannotJudgeError {
  override name = 'BrokerControlUnavailableError';
  constructor(detail: string) {
    super(`this check restarts a broker, and none can be restarted here: ${detail}`);
  }
}

/** The flag that says yes up front (grader/cli/shared.ts declares it). */
export const RESTART_MY_BROKER_FLAG = '--restart-my-broker';

/** How long a throwaway node may take to boot: a few seconds usually, much longer on a slow laptop. */
export const THROWAWAY_START_TIMEOUT_MS = 120_000;
/** After this long, say on screen that the throwaway node is slow and how long we wait. */
const SLOW_START_NOTICE_MS = 15_000;

/**
 * May grading restart the learner's own local broker when no throwaway node can be started?
 * granted: they said so up front (the flag); ask: a terminal is there to ask on, once per run;
 * refused: nobody may say yes here (tests, benchmarks, CI, no terminal), and `why` says so.
 */
export type SharedRestartConsent =
  { kind: 'granted' } | { kind: 'ask'; ask(question: string): Promise<boolean> } | { kind: 'refused'; why: string };

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
  /** `announce` says on screen what happens on the way (a slow node, a second try). */
  acquireRestartable(options?: { announce?(message: string): void }): Promise<RestartableBroker>;
}

async function rabbitmqctl(node: string | undefined, ...args: string[]): Promise<void> {
  await run('rabbitmqctl', [...(node ? ['-n', node] : []), '-q', ...args], { timeout: 60_000 });
}

const firstLine = (error: unknown) => (error instanceof Error ? error.message.split('\n')[0] : String(error));

/**
 * A RabbitMQ node of our own (shared/broker/throwaway-node.ts, the same code findBroker starts a
 * broker with): no plugins and no config file, so it starts fast. A node that ended during its boot
 * gets one more try; one that was still booting after the timeout does not (it had its two minutes).
 */
async function startThrowawayNode(options: BrokerControlOptions, announce: (message: string) => void): Promise<RestartableBroker> {
  const timeoutMs = options.throwawayStartTimeoutMs ?? THROWAWAY_START_TIMEOUT_MS;
  const start = async () => {
    const slow = setTimeout(
      () => announce(`the throwaway RabbitMQ node for the restart is slow to start: waiting up to ${timeoutMs / 1000} s`),
      SLOW_START_NOTICE_MS,
    );
    try {
      return await startNode({
        prefix: 'grader',
        startTimeoutMs: timeoutMs,
        ...(options.rabbitmqServer ? { serverCommand: options.rabbitmqServer } : {}),
      });
    } finally {
      clearTimeout(slow);
    }
  };
  let node;
  try {
    node = await start();
  } catch (error) {
    if (error instanceof ThrowawayNodeTimeoutError) throw error;
    announce(`a throwaway RabbitMQ node did not start (${firstLine(error)}): trying once more`);
    node = await start();
  }
  return {
    url: node.url,
    description: `a throwaway RabbitMQ node (${node.node}) started for this check`,
    restart: node.restart,
    release: node.stop,
  };
}

export interface BrokerControlOptions {
  /** May the learner's own local broker be restarted when no throwaway node can be started? */
  sharedRestart: SharedRestartConsent;
  /** The rabbitmq-server that starts throwaway nodes (default: the one on PATH; tests name one that does not exist). */
  rabbitmqServer?: string;
  /** Default THROWAWAY_START_TIMEOUT_MS. */
  throwawayStartTimeoutMs?: number;
}

export function brokerControlFor(broker: BrokerEndpoint, options: BrokerControlOptions): BrokerControl {
  return {
    async acquireRestartable({ announce = () => {} } = {}) {
      let throwawayProblem = 'rabbitmq-server is not installed on this machine';
      if (await rabbitmqServerInstalled(options.rabbitmqServer)) {
        try {
          return await startThrowawayNode(options, announce);
        } catch (error) {
          throwawayProblem = `a throwaway node did not start: ${firstLine(error)}`;
        }
      }
      if (broker.restart) {
        const restart = broker.restart;
        return { url: broker.url, description: 'the RabbitMQ container', restart, release: async () => {} };
      }
      const { hostname } = new URL(broker.url);
      const local = ['127.0.0.1', 'localhost', '::1'].includes(hostname);
      if (!local) {
        throw new BrokerControlUnavailableError(
          `${throwawayProblem}, and the broker at ${hostname} is not on this machine. Run a local broker (docker compose up -d) to grade this check`,
        );
      }
      if (!(await commandExists('rabbitmqctl'))) {
        throw new BrokerControlUnavailableError(
          `${throwawayProblem}, and rabbitmqctl is not installed here to restart your broker at ${hostname} with`,
        );
      }
      const what = `your RabbitMQ at ${hostname} (stop_app/start_app; durable queues and persistent messages are kept)`;
      const consent = options.sharedRestart;
      const yes =
        consent.kind === 'granted' ||
        (consent.kind === 'ask' &&
          (await consent.ask(`${throwawayProblem}.\nMilestone 4 wants to restart ${what}. Restart it? [y/N] `).catch(() => false)));
      if (!yes) {
        const why = consent.kind === 'refused' ? consent.why : 'you answered no';
        throw new BrokerControlUnavailableError(
          `${throwawayProblem}, and grading restarts your own broker only with your yes (${why}). ` +
            `To allow it, run npm run grade -- 4 ${RESTART_MY_BROKER_FLAG}: it restarts ${what}`,
        );
      }
      return {
        url: broker.url,
        description: `your local RabbitMQ broker (rabbitmqctl stop_app, then start_app; durable queues and persistent messages are kept): ${consent.kind === 'granted' ? `${RESTART_MY_BROKER_FLAG} allows it` : 'you said yes'}`,
        restart: async () => {
          await rabbitmqctl(undefined, 'stop_app');
          await rabbitmqctl(undefined, 'start_app');
        },
        release: async () => {},
      };
    },
  };
}
