// The file `npm run broker:setup` writes and the services read (BROKER_USERS_FILE): which vhost, and
// each service's own broker user and password. It holds secrets: written readable by its owner only.
// (In a real deployment each service would get only its own password, from a secret store.)
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { withCredentials, withVhost } from '../../shared/broker/broker-url.ts';
import { CliError } from '../../shared/cli/errors.ts';
import { SERVICE_NAMES, type ServiceName } from '../../shared/messages/events.ts';

const Credentials = z.object({ username: z.string().min(1), password: z.string().min(1) });
const UsersFileSchema = z.object({
  vhost: z.string().min(1),
  users: z.object(Object.fromEntries(SERVICE_NAMES.map((service) => [service, Credentials])) as Record<ServiceName, typeof Credentials>),
});
export type BrokerUsersFile = z.infer<typeof UsersFileSchema>;

export function readUsersFile(file: string): BrokerUsersFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(
      `cannot read the broker users file ${file} (BROKER_USERS_FILE): ${(error as Error).message}. npm run broker:setup writes it`,
      { cause: error },
    );
  }
  const parsed = UsersFileSchema.safeParse(JSON.parse(text));
  if (!parsed.success)
    throw new CliError(
      `${file} is not a broker users file: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
    );
  return parsed.data;
}

export function writeUsersFile(file: string, contents: BrokerUsersFile): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(contents, null, 2)}\n`, { mode: 0o600 });
  fs.chmodSync(file, 0o600); // an older file keeps its mode otherwise
}

/** Every service's user name: what consumers compare user_id against. */
export function usernames(file: BrokerUsersFile): Record<ServiceName, string> {
  return Object.fromEntries(SERVICE_NAMES.map((service) => [service, file.users[service].username])) as Record<ServiceName, string>;
}

/**
 * How one service connects under least privilege: every node's URL with its own user and the file's
 * vhost, and everyone's user names (for the user_id check). Merged into its ServiceConfig.
 */
export function identityFor(file: BrokerUsersFile, service: ServiceName, brokerUrl: string, failoverUrls: string[] = []) {
  const { username, password } = file.users[service];
  const own = (url: string) => withCredentials(withVhost(url, file.vhost), username, password);
  return { brokerUrl: own(brokerUrl), failoverUrls: failoverUrls.map(own), brokerUsers: usernames(file) };
}
