// Declares the topology on the broker, each layer contributing its part: queues first (with the
// arguments of layers 4, 6 and 9), then exchanges and bindings (layers 2 and 3).
// Under least privilege a service may configure only its own queues: declareOwnTopology declares
// those and their bindings, and checks that everything else `npm run broker:setup` declared exists.
import type { Channel } from 'amqplib';
import type { Layers } from '../../shared/layers/index.ts';
import type { ServiceName } from '../../shared/messages/events.ts';
import { anchored, permissionsFor, type ServicePermissions } from '../../shared/topology/permissions.ts';
import { ownerOf } from '../../shared/topology/topology.ts';
import type { QueueSpec, QueueType, Topology, TopologyStream } from '../../shared/topology/types.ts';

type TopologyLayers = Pick<Layers, 'routing' | 'fanout' | 'durability' | 'deadLetters' | 'scaling'> & Partial<Pick<Layers, 'streams'>>;

/** The topology is not what this service expects on the broker, and it may not fix that itself. */
export class MissingTopologyError extends Error {
  constructor(what: string) {
    super(
      `${what} does not exist on the broker, and this service's user may not declare it: run npm run broker:setup (with admin rights) first`,
    );
    this.name = 'MissingTopologyError';
  }
}

async function declareQueue(channel: Channel, spec: QueueSpec, layers: TopologyLayers, queueType: QueueType): Promise<void> {
  const options = layers.durability.queueOptions(spec, queueType);
  const queueArguments = { ...options.arguments, ...layers.deadLetters.queueArguments(spec), ...layers.scaling.queueArguments(spec) };
  // Quorum queues dead-letter at most once (RabbitMQ's default), on purpose: at-least-once stalled
  // for minutes after a node was lost (npm run chaos -- --cluster, docs/reliability.md).
  await channel.assertQueue(spec.name, { ...options, arguments: queueArguments });
}

export async function declareTopology(channel: Channel, topology: Topology, layers: TopologyLayers, queueType: QueueType): Promise<void> {
  for (const spec of topology.queues) await declareQueue(channel, spec, layers, queueType);
  // Queues exist before the bindings that name them; layer 2's exchanges before layer 3 binds to them.
  await layers.routing.declareRoutes(channel, topology, (spec) => layers.durability.exchangeOptions(spec));
  await layers.fanout.declareFanout(channel, topology, (spec) => layers.durability.exchangeOptions(spec));
  for (const stream of topology.streams ?? []) await declareStream(channel, stream, layers);
}

/** A stream of the topology (AUDIT_STREAM=on), with layer 10, and its binding from its source exchange. */
async function declareStream(channel: Channel, stream: TopologyStream, layers: TopologyLayers): Promise<void> {
  if (!layers.streams) throw new Error(`the topology has a stream (${stream.name}) but no stream layer was given to declare it`);
  await layers.streams.declareStream(channel, { name: stream.name, retention: stream.retention });
  await channel.bindQueue(stream.name, stream.source, '');
}

/**
 * What one service declares when it logs in as its own user: its queues (with the same arguments as
 * above, so a queue declared by the setup command is re-declared unchanged) and the bindings into
 * them. The exchanges and other queues it uses are only checked, with passive declares.
 */
export async function declareOwnTopology(
  channel: Channel,
  topology: Topology,
  service: ServiceName,
  layers: TopologyLayers,
  queueType: QueueType,
): Promise<void> {
  const check = async (what: string, passive: (channel: Channel) => Promise<unknown>) => {
    // A failed passive declare (404) closes the channel, so this is the end of the setup either way.
    await passive(channel).catch(() => {
      throw new MissingTopologyError(what);
    });
  };
  // Only what the service has a right on, which is what it uses: from RabbitMQ 4.3.1 a passive
  // declare needs a right (configure, write or read) on the exchange or queue (4.3.0 wanted
  // configure; 3.x none), and without one it is refused, not answered.
  const uses = new RegExp(anchored(usedResources(permissionsFor(service, topology))));
  for (const spec of topology.exchanges.filter((exchange) => uses.test(exchange.name)))
    await check(`exchange ${spec.name}`, (c) => c.checkExchange(spec.name));
  const own = topology.queues.filter((spec) => ownerOf(spec) === service);
  for (const spec of topology.queues.filter((queue) => !own.includes(queue) && uses.test(queue.name)))
    await check(`queue ${spec.name}`, (c) => c.checkQueue(spec.name));
  for (const spec of own) await declareQueue(channel, spec, layers, queueType);
  const ownNames = new Set(own.map((spec) => spec.name));
  for (const binding of topology.bindings) {
    if (binding.destinationKind === 'queue' && ownNames.has(binding.destination))
      await channel.bindQueue(binding.destination, binding.source, binding.pattern, binding.arguments);
  }
  // Its streams too (`npm run broker:setup` gives the reading service the rights on them, when its
  // AUDIT_STREAM says so: the setup and the services must agree on it).
  for (const stream of (topology.streams ?? []).filter((s) => s.consumer === service)) await declareStream(channel, stream, layers);
}

/** Every name pattern the user has any right on (configure, write or read). */
function usedResources(permissions: ServicePermissions): string[] {
  return [...permissions.configure, ...permissions.write, ...permissions.read];
}
