// What `npm run broker:setup` does, with admin rights: the vhost, the whole topology (declared as
// the services would, with the reference layers), and one broker user per service with exactly the
// permissions shared/topology/permissions.ts derives. Running it again keeps the passwords it wrote.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import amqp from 'amqplib';
import { withVhost } from '../../shared/broker/broker-url.ts';
import { ManagementApi, ManagementApiError, type ManagementCredentials } from '../../shared/broker/management-api.ts';
import { SERVICE_NAMES, type ServiceName } from '../../shared/messages/events.ts';
import { anchored, permissionsFor } from '../../shared/topology/permissions.ts';
import { buildTopology } from '../../shared/topology/topology.ts';
import { withBrokerFeatures } from '../runtime/broker-topology.ts';
import type { TopologySettings } from '../../shared/topology/types.ts';
import { referenceLayers } from '../layers/index.ts';
import { declareTopology } from '../runtime/declare-topology.ts';
import { readUsersFile, writeUsersFile, type BrokerUsersFile } from './users-file.ts';

export interface BrokerSetupOptions {
  /** An admin's AMQP URL (any vhost: the one below is used). */
  adminUrl: string;
  /** The management API, with an admin's credentials: users and permissions are set through it. */
  management: ManagementCredentials;
  vhost: string;
  /** User names are `<prefix><service>`: several systems (or test runs) can share one broker. */
  prefix: string;
  /** Where the users and their passwords are written (and read back on a second run). */
  file: string;
  topology: TopologySettings;
}

export async function setUpBroker(options: BrokerSetupOptions): Promise<BrokerUsersFile> {
  const api = new ManagementApi(options.management);
  await api.createVhost(options.vhost); // a PUT: an existing vhost is kept as it is

  const connection = await amqp.connect(withVhost(options.adminUrl, options.vhost));
  // As each service builds it on this broker: on 4.3+ with quorum queues, no retry queues.
  const topology = buildTopology(withBrokerFeatures(options.topology, connection));
  try {
    const channel = await connection.createChannel();
    await declareTopology(channel, topology, referenceLayers, options.topology.queueType);
    await channel.close();
  } finally {
    await connection.close();
  }

  const previous = fs.existsSync(options.file) ? readUsersFile(options.file) : undefined;
  const vhost = encodeURIComponent(options.vhost);
  const users = {} as BrokerUsersFile['users'];
  for (const service of SERVICE_NAMES) {
    const username = `${options.prefix}${service}`;
    const kept = previous?.users[service];
    const password = kept?.username === username ? kept.password : randomBytes(18).toString('base64url');
    const permissions = permissionsFor(service, topology);
    const user = encodeURIComponent(username);
    await api.request('PUT', `/users/${user}`, { password, tags: permissions.tags.join(',') });
    await api.request('PUT', `/permissions/${vhost}/${user}`, {
      configure: anchored(permissions.configure),
      write: anchored(permissions.write),
      read: anchored(permissions.read),
    });
    const { topic } = permissions;
    await api.request('PUT', `/topic-permissions/${vhost}/${user}`, {
      exchange: topic.exchange,
      write: anchored(topic.write, 'topic'),
      read: anchored(topic.read, 'topic'),
    });
    users[service] = { username, password };
  }
  const written: BrokerUsersFile = { vhost: options.vhost, users };
  writeUsersFile(options.file, written);
  return written;
}

/** Deletes the users a setup created (the vhost and its topology stay). */
export async function removeBrokerUsers(management: ManagementCredentials, file: BrokerUsersFile): Promise<ServiceName[]> {
  const api = new ManagementApi(management);
  const removed: ServiceName[] = [];
  for (const service of SERVICE_NAMES) {
    try {
      await api.request('DELETE', `/users/${encodeURIComponent(file.users[service].username)}`);
      removed.push(service);
    } catch (error) {
      if (!(error instanceof ManagementApiError && error.status === 404)) throw error;
    }
  }
  return removed;
}
