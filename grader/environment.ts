// The grading environment: the broker (found once per command), its management API (every check
// gets a vhost of its own through it) and a way to restart a broker. Apart from runner.ts so that
// `npm run grade` can find the broker without loading the checks and the reference system: that is
// the grading child's work, and it starts while the command finds the broker.
import { type BrokerEndpoint, BrokerNotFoundError, findBroker, portAnswers } from '../shared/broker/find-broker.ts';
import { ManagementApi } from '../shared/broker/management-api.ts';
import { EnvironmentError } from '../shared/cli/errors.ts';
import { processAlive } from '../shared/broker/throwaway-node.ts';
import { describeError } from '../shared/log.ts';
import { brokerControlFor, type SharedRestartConsent } from './broker-control.ts';
import type { GradingEnvironment } from './context.ts';
import { sweepAbandonedDataDirs } from './data-dirs.ts';

/** What prepareEnvironment's callers refuse by default: tests, benchmarks and demos never restart the shared broker. */
const NO_SHARED_RESTART: SharedRestartConsent = {
  kind: 'refused',
  why: 'the tests, benchmarks and demos never restart a broker others use',
};

/**
 * Finds the broker and makes sure its management API answers (every check needs a vhost of its own).
 * sharedRestart: only a learner's grade may restart their own local broker when no throwaway node
 * can be started, and only with their yes (broker-control.ts); by default nobody may.
 * verified: the broker was found and checked by this process's parent (RABBITMQ_URL names it): use it as is.
 * GRADER_RABBITMQ_SERVER names the rabbitmq-server throwaway nodes start with (tests: one that does not exist).
 */
export async function prepareEnvironment(
  options: { sharedRestart?: SharedRestartConsent; verified?: boolean } = {},
): Promise<GradingEnvironment> {
  const broker = await findBroker();
  const environment = environmentFor(broker, options);
  // verified: the grading child, given the broker its parent has just found and checked.
  if (options.verified) return environment;
  const { hostname, port } = new URL(broker.url);
  if (!(await portAnswers(hostname, Number(port || 5672)))) {
    await broker.stop();
    throw new BrokerNotFoundError(`RABBITMQ_URL points at ${hostname}:${port || 5672}, and nothing answers there`);
  }
  const { api } = environment;
  try {
    await api.overview();
  } catch (error) {
    await broker.stop();
    throw new EnvironmentError(
      `RabbitMQ answers at ${new URL(broker.url).host}, but its management API at ${broker.management.baseUrl} does not (${describeError(error)}).\n` +
        'The grader needs it. Enable it with: rabbitmq-plugins enable rabbitmq_management rabbitmq_prometheus',
    );
  }
  // Process ids only mean something on this machine: sweep only a broker of our own.
  if (['127.0.0.1', 'localhost', '::1'].includes(hostname)) await sweepAbandonedVhosts(api);
  sweepAbandonedDataDirs(processAlive);
  return environment;
}

/** The grading environment of a broker already found: its management API and the way to restart it. */
export function environmentFor(broker: BrokerEndpoint, options: { sharedRestart?: SharedRestartConsent } = {}): GradingEnvironment {
  const rabbitmqServer = process.env.GRADER_RABBITMQ_SERVER;
  return {
    broker,
    api: new ManagementApi(broker.management),
    brokerControl: brokerControlFor(broker, {
      sharedRestart: options.sharedRestart ?? NO_SHARED_RESTART,
      ...(rabbitmqServer ? { rabbitmqServer } : {}),
    }),
  };
}

/**
 * Deletes the vhosts of grading runs and demos whose process is gone (killed mid-run, say). Their
 * names carry the process id: `grade-<check>-<pid>-…` and `demo-<milestone>-<pid>-…`.
 */
async function sweepAbandonedVhosts(api: ManagementApi): Promise<void> {
  const vhosts = await api.request<Array<{ name: string }>>('GET', '/vhosts').catch(() => []);
  const abandoned = vhosts
    .map(({ name }) => ({
      name,
      pid: (/^grade-.+-(\d+)-\d+-[a-z0-9]+$/.exec(name) ?? /^demo-\d\d-[a-z-]+-(\d+)-[a-z0-9]+$/.exec(name))?.[1],
    }))
    .filter(({ pid }) => pid !== undefined && Number(pid) !== process.pid && !processAlive(Number(pid)));
  await Promise.all(abandoned.map(({ name }) => api.deleteVhost(name).catch(() => {})));
}

/** The found broker, as a grading child is told it (WorkerRequest.broker). */
export function brokerHandOver(environment: GradingEnvironment): { url: string; managementUrl: string } {
  return { url: environment.broker.url, managementUrl: environment.broker.management.baseUrl };
}
