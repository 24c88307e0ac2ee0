// Command-line options of `npm start`.
import { parseArgs } from 'node:util';
import { SERVICE_NAMES, type ServiceName } from '../../shared/messages/events.ts';

export const USAGE = `usage: npm start [-- --services <name,name,...>] [--layers mine|solutions]

Starts the six services of the order system (${SERVICE_NAMES.join(', ')}) against one RabbitMQ broker.
  --services order,inventory   start only these services (e.g. to watch messages pile up for a missing consumer)
  --layers mine                run the services on your nine layers, from milestones/ (default: solutions, the reference)
  --help                       show this help`;

/** Whose layers the services run on: the reference (solutions/layers) or the learner's (milestones/). */
export const LAYER_SOURCES = ['solutions', 'mine'] as const;
export type LayerSource = (typeof LAYER_SOURCES)[number];

export function isLayerSource(value: string): value is LayerSource {
  return (LAYER_SOURCES as readonly string[]).includes(value);
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface StartOptions {
  services: ServiceName[];
  layers: LayerSource;
  help: boolean;
}

export function parseStartArgs(argv: string[]): StartOptions {
  let values: { services?: string; layers?: string; help?: boolean };
  try {
    ({ values } = parseArgs({ args: argv, options: { services: { type: 'string' }, layers: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const layers = values.layers ?? 'solutions';
  if (!isLayerSource(layers)) throw new UsageError(`--layers takes "mine" (your layers, from milestones/) or "solutions" (the reference), not "${layers}"`);
  const help = values.help ?? false;
  if (values.services === undefined) return { services: [...SERVICE_NAMES], layers, help };

  const requested = values.services.split(',').map((name) => name.trim()).filter((name) => name !== '');
  const unknown = requested.filter((name) => !(SERVICE_NAMES as readonly string[]).includes(name));
  if (unknown.length > 0) throw new UsageError(`unknown service ${unknown.join(', ')}; the services are ${SERVICE_NAMES.join(', ')}`);
  if (requested.length === 0) throw new UsageError('--services needs at least one service name');
  // Keep the system's own order, without duplicates.
  return { services: SERVICE_NAMES.filter((name) => requested.includes(name)), layers, help };
}
