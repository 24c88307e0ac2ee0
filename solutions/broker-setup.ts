// `npm run broker:setup`: least privilege on the broker. With admin rights it declares the whole
// topology and creates one broker user per service with only the rights that service needs, and
// writes their passwords to a file; services started with BROKER_USERS_FILE pointing at it log in as
// their own user (docs/architecture.md, "Least privilege on the broker").
import path from 'node:path';
import { vhostOf } from '../shared/broker/broker-url.ts';
import { findBroker } from '../shared/broker/find-broker.ts';
import { defineCli, parseOrExit, runMain } from '../shared/cli/args.ts';
import { readEnv } from '../shared/config.ts';
import { createLogger } from '../shared/log.ts';
import { SERVICE_NAMES } from '../shared/messages/events.ts';
import { removeBrokerUsers, setUpBroker } from './broker-users/set-up-broker.ts';
import { readUsersFile } from './broker-users/users-file.ts';
import { topologySettingsFromEnv } from './runtime/service-config.ts';

const SETUP_CLI = defineCli({
  command: 'npm run broker:setup',
  synopsis: ['npm run broker:setup [-- --vhost <name>] [--prefix <text>] [--file <path>] [--remove]'],
  summary: `Run once with an admin's credentials (RABBITMQ_URL, or the broker found as npm start finds it).
Declares the vhost and the whole topology, creates one broker user per service (${SERVICE_NAMES.join(', ')})
with only the permissions it needs, and writes their names and passwords to a file. Then start the system
with BROKER_USERS_FILE=<that file>: each service logs in as its own user. Running it again keeps the
passwords and resets the permissions.`,
  options: {
    vhost: { type: 'string', value: '<name>', description: "the vhost to set up (default: RABBITMQ_URL's, else /)" },
    prefix: { type: 'string', value: '<text>', default: 'order-system-', description: 'user names are <prefix><service>' },
    file: { type: 'string', value: '<path>', description: 'where the users and passwords go (default: <DATA_DIR>/broker-users.json)' },
    remove: { type: 'boolean', description: 'delete the users the file names instead (the vhost and topology stay)' },
  },
});

const { values } = parseOrExit(SETUP_CLI);
const log = createLogger('broker:setup');

async function main(): Promise<void> {
  const env = readEnv();
  const file = path.resolve(values.file ?? path.join(env.DATA_DIR, 'broker-users.json'));
  const broker = await findBroker({ log, mayStartBroker: false });
  if (values.remove) {
    const removed = await removeBrokerUsers(broker.management, readUsersFile(file));
    log.info(`removed ${removed.length} users (${removed.join(', ') || 'none were left'}); ${file} stays`);
    return;
  }
  const vhost = values.vhost ?? vhostOf(broker.url);
  const written = await setUpBroker({
    adminUrl: broker.url,
    management: broker.management,
    vhost,
    prefix: values.prefix,
    file,
    topology: topologySettingsFromEnv(env),
  });
  log.info(`vhost ${vhost}: topology declared; users ${SERVICE_NAMES.map((service) => written.users[service].username).join(', ')}`);
  log.info(`their passwords are in ${file} (readable by you only). Start the system on them with:`);
  const relative = path.relative(process.cwd(), file);
  log.info(`  BROKER_USERS_FILE=${relative.startsWith('..') ? file : relative} npm start`);
}

// A users file that is not one: exit 1; no broker, a management API that refuses: 3; a bug: 4 (shared/cli/errors.ts).
await runMain(main);
