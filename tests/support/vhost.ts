// Test isolation: each test file works in a vhost of its own, created and deleted through the
// management API, so files run in parallel without seeing each other's queues or messages.
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { withVhost } from '../../shared/broker/broker-url.ts';
import { ManagementApi } from '../../shared/broker/management-api.ts';
import type { ManagementTarget } from '../../shared/layers/08-monitoring.ts';

export interface TestVhost {
  vhost: string;
  /** AMQP URL pointing at the vhost. */
  url: string;
  api: ManagementApi;
  management: ManagementTarget;
  delete(): Promise<void>;
}

export function managementApi(): ManagementApi {
  return new ManagementApi({ baseUrl: inject('managementUrl'), username: inject('managementUser'), password: inject('managementPassword') });
}

export async function createTestVhost(label: string): Promise<TestVhost> {
  const vhost = `test-${label}-${randomUUID().slice(0, 8)}`;
  const api = managementApi();
  await api.createVhost(vhost);
  return {
    vhost,
    url: withVhost(inject('brokerUrl'), vhost),
    api,
    management: { ...api.credentials, vhost },
    delete: () => api.deleteVhost(vhost),
  };
}
