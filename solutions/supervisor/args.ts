// Command-line options of `npm start`, through the workshop's one parser (shared/cli/args.ts).
import { defineCli, HelpRequested, UsageError } from '../../shared/cli/args.ts';
import { SERVICE_NAMES, type ServiceName } from '../../shared/messages/events.ts';

/** Whose layers the services run on: the reference (solutions/layers) or the learner's (milestones/). */
export const LAYER_SOURCES = ['solutions', 'mine'] as const;
export type LayerSource = (typeof LAYER_SOURCES)[number];

export function isLayerSource(value: string): value is LayerSource {
  return (LAYER_SOURCES as readonly string[]).includes(value);
}

export const START_CLI = defineCli({
  command: 'npm start',
  synopsis: ['npm start [-- --services <name,name,...>] [--layers solutions|mine] [--no-dashboard]'],
  summary: `Starts the six services of the order system (${SERVICE_NAMES.join(', ')}),
each as its own process, against one RabbitMQ broker, and merges their logs. Ctrl-C stops them all.`,
  options: {
    services: {
      type: 'string',
      value: '<name,...>',
      description: 'start only these services (e.g. to watch messages pile up for a missing consumer)',
    },
    layers: {
      type: 'string',
      choices: LAYER_SOURCES,
      default: 'solutions',
      description: 'the reference layers (solutions) or yours, from milestones/ (mine)',
    },
    'no-dashboard': { type: 'boolean', description: 'do not start the live dashboard (DASHBOARD_PORT, default 8081)' },
  },
  notes: 'Exit codes: 0 stopped with Ctrl-C, 1 no broker or a service failed, 2 a wrong command line.',
});

export const USAGE = START_CLI.usage;

/** A wrong command line: `message` says what, the caller prints USAGE after it and exits 2. */
export { UsageError };

export interface StartOptions {
  services: ServiceName[];
  layers: LayerSource;
  dashboard: boolean;
  help: boolean;
}

export function parseStartArgs(argv: string[]): StartOptions {
  let values;
  try {
    ({ values } = START_CLI.parse(argv));
  } catch (error) {
    if (error instanceof HelpRequested) return { services: [...SERVICE_NAMES], layers: 'solutions', dashboard: true, help: true };
    throw error;
  }
  const { layers } = values;
  const dashboard = !values['no-dashboard'];
  if (values.services === undefined) return { services: [...SERVICE_NAMES], layers, dashboard, help: false };

  const requested = values.services
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = requested.filter((name) => !(SERVICE_NAMES as readonly string[]).includes(name));
  if (unknown.length > 0) throw START_CLI.usageError(`unknown service ${unknown.join(', ')}; the services are ${SERVICE_NAMES.join(', ')}`);
  if (requested.length === 0) throw START_CLI.usageError('--services needs at least one service name');
  // Keep the system's own order, without duplicates.
  return { services: SERVICE_NAMES.filter((name) => requested.includes(name)), layers, dashboard, help: false };
}
