// `npm run broker:setup`'s users on a test's own vhost: one per service, named with a prefix of
// their own so that tests running side by side never share one (removeBrokerUsers takes them away).
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { ManagementCredentials } from '../../../shared/broker/management-api.ts';
import type { TopologySettings } from '../../../shared/topology/types.ts';
import { setUpBroker } from '../../../solutions/broker-users/set-up-broker.ts';
import type { BrokerUsersFile } from '../../../solutions/broker-users/users-file.ts';
import type { SystemUnderTest } from './system-under-test.ts';

export function setUpTestUsers(
  sut: SystemUnderTest,
  management: ManagementCredentials,
  topology: TopologySettings,
): Promise<BrokerUsersFile> {
  return setUpBroker({
    adminUrl: sut.vhost.url,
    management,
    vhost: sut.vhost.vhost,
    prefix: `test-${randomUUID().slice(0, 8)}-`,
    file: path.join(sut.dataDir, 'broker-users.json'),
    topology,
  });
}
