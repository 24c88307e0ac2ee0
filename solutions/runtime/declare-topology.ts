// Declares the whole topology on the broker, each layer contributing its part: queues first (with
// the arguments of layers 4, 6 and 9), then exchanges and bindings (layers 2 and 3).
import type { Channel } from 'amqplib';
import type { Layers } from '../../shared/layers/index.ts';
import type { Topology, QueueType } from '../../shared/topology/types.ts';

export async function declareTopology(
  channel: Channel,
  topology: Topology,
  layers: Pick<Layers, 'routing' | 'fanout' | 'durability' | 'deadLetters' | 'scaling'>,
  queueType: QueueType,
): Promise<void> {
  for (const spec of topology.queues) {
    const options = layers.durability.queueOptions(spec, queueType);
    await channel.assertQueue(spec.name, {
      ...options,
      arguments: { ...options.arguments, ...layers.deadLetters.queueArguments(spec), ...layers.scaling.queueArguments(spec) },
    });
  }
  // Queues exist before the bindings that name them; layer 2's exchanges before layer 3 binds to them.
  await layers.routing.declareRoutes(channel, topology, (spec) => layers.durability.exchangeOptions(spec));
  await layers.fanout.declareFanout(channel, topology, (spec) => layers.durability.exchangeOptions(spec));
}
