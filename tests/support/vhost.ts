// Test isolation: each test file works in a vhost of its own, created and deleted through the
// management API, so files run in parallel without seeing each other's queues or messages.
// useTestVhost / useVhostChannel register the hooks that do it, so a file says only what it needs.
import { randomUUID } from 'node:crypto';
import { type Channel, type ChannelModel, type ConfirmChannel, connect } from 'amqplib';
import { afterAll, beforeAll, inject } from 'vitest';
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
  return new ManagementApi({
    baseUrl: inject('managementUrl'),
    username: inject('managementUser'),
    password: inject('managementPassword'),
  });
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

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is only there once beforeAll has run`);
  return value;
}

/**
 * Registers the hooks that create a vhost before the tests of this file (or describe block) and
 * delete it after them; `setup` runs once it exists. The returned vhost is readable in tests and
 * hooks. afterAll hooks run in reverse order, so the caller's own (registered later) run first:
 * processes and connections on the vhost stop before it goes.
 */
export function useTestVhost(label: string, setup?: (vhost: TestVhost) => Promise<void>): TestVhost {
  let created: TestVhost | undefined;
  beforeAll(async () => {
    created = await createTestVhost(label);
    await setup?.(created);
  });
  afterAll(async () => {
    await created?.delete();
  });
  const vhost = () => required(created, 'the test vhost');
  return {
    get vhost() {
      return vhost().vhost;
    },
    get url() {
      return vhost().url;
    },
    get api() {
      return vhost().api;
    },
    get management() {
      return vhost().management;
    },
    delete: () => vhost().delete(),
  };
}

/** A test vhost with one connection to it and a channel on that connection. */
export interface VhostChannel<C extends Channel> {
  readonly vhost: TestVhost;
  readonly connection: ChannelModel;
  readonly channel: C;
}

interface VhostChannelOptions<C extends Channel> {
  /** Publisher confirms on the channel (the default), or a plain channel. */
  confirms?: boolean;
  /** Runs once the channel is open: declare what the tests share. */
  setup?(broker: VhostChannel<C>): Promise<unknown>;
}

/** useTestVhost, plus a connection and a channel opened before the tests; the connection is closed before the vhost goes. */
export function useVhostChannel(
  label: string,
  options?: VhostChannelOptions<ConfirmChannel> & { confirms?: true },
): VhostChannel<ConfirmChannel>;
export function useVhostChannel(label: string, options: VhostChannelOptions<Channel> & { confirms: false }): VhostChannel<Channel>;
export function useVhostChannel(label: string, options: VhostChannelOptions<Channel> = {}): VhostChannel<Channel> {
  const vhost = useTestVhost(label);
  let connection: ChannelModel | undefined;
  let channel: Channel | undefined;
  const broker: VhostChannel<Channel> = {
    vhost,
    get connection() {
      return required(connection, 'the connection to the test vhost');
    },
    get channel() {
      return required(channel, 'the channel on the test vhost');
    },
  };
  beforeAll(async () => {
    connection = await connect(vhost.url);
    channel = options.confirms === false ? await connection.createChannel() : await connection.createConfirmChannel();
    await options.setup?.(broker);
  });
  afterAll(async () => {
    await connection?.close();
  });
  return broker;
}
