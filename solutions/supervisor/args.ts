// Command-line options of `npm start`.
import { parseArgs } from 'node:util';
import { SERVICE_NAMES, type ServiceName } from '../../shared/messages/events.ts';

export const USAGE = `usage: npm start [-- --services <name,name,...>]

Starts the six services of the order system (${SERVICE_NAMES.join(', ')}) against one RabbitMQ broker.
  --services order,inventory   start only these services (e.g. to watch messages pile up for a missing consumer)
  --help                       show this help`;

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface StartOptions {
  services: ServiceName[];
  help: boolean;
}

export function parseStartArgs(argv: string[]): StartOptions {
  let values: { services?: string; help?: boolean };
  try {
    ({ values } = parseArgs({ args: argv, options: { services: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.services === undefined) return { services: [...SERVICE_NAMES], help: values.help ?? false };

  const requested = values.services.split(',').map((name) => name.trim()).filter((name) => name !== '');
  const unknown = requested.filter((name) => !(SERVICE_NAMES as readonly string[]).includes(name));
  if (unknown.length > 0) throw new UsageError(`unknown service ${unknown.join(', ')}; the services are ${SERVICE_NAMES.join(', ')}`);
  if (requested.length === 0) throw new UsageError('--services needs at least one service name');
  // Keep the system's own order, without duplicates.
  return { services: SERVICE_NAMES.filter((name) => requested.includes(name)), help: values.help ?? false };
}
