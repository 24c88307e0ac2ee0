// Finds the broker once for the whole run (see shared/broker/find-broker.ts) and hands its address
// to every test file through vitest's provide/inject. A broker it had to start (a throwaway node or
// container) is also put in RABBITMQ_URL for the test processes and what they spawn, so that code
// which finds the broker itself (the grader's prepareEnvironment) uses it instead of starting another.
import type { TestProject } from 'vitest/node';
import { findBroker } from '../../shared/broker/find-broker.ts';
import { ManagementApi } from '../../shared/broker/management-api.ts';
import { createLogger } from '../../shared/log.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    brokerUrl: string;
    managementUrl: string;
    managementUser: string;
    managementPassword: string;
  }
}

export default async function setup(project: TestProject) {
  const broker = await findBroker({ log: createLogger('tests') });
  // Fail the run early and clearly when the management plugin is off: every test needs it for its vhost.
  await new ManagementApi(broker.management).overview().catch((error: unknown) => {
    throw new Error(
      `the RabbitMQ management API at ${broker.management.baseUrl} does not answer (${String(error)}). ` +
        'Enable it: rabbitmq-plugins enable rabbitmq_management rabbitmq_prometheus',
    );
  });
  if (broker.throwawayNode || broker.source === 'container') {
    process.env.RABBITMQ_URL = broker.url;
    process.env.RABBITMQ_MANAGEMENT_URL = broker.management.baseUrl;
  }
  project.provide('brokerUrl', broker.url);
  project.provide('managementUrl', broker.management.baseUrl);
  project.provide('managementUser', broker.management.username);
  project.provide('managementPassword', broker.management.password);
  return async () => {
    await broker.stop();
  };
}
