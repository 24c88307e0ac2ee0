// Layer 2: topic, direct and headers exchanges, and the queues bound to them by routing key,
// pattern or header arguments.
import type { RoutingLayer } from '../../shared/layers/02-routing.ts';
import type { ExchangeSpec } from '../../shared/topology/types.ts';

const isRouted = (spec: ExchangeSpec): spec is ExchangeSpec & { type: 'topic' | 'direct' | 'headers' } =>
  spec.type === 'topic' || spec.type === 'direct' || spec.type === 'headers';

export const routing: RoutingLayer = {
  // The event type is the routing key, so a binding pattern like `order.*` selects a family of events.
  routingKeyFor: (event) => event.type,

  async declareRoutes(channel, topology, exchangeOptions) {
    const routed = topology.exchanges.filter(isRouted);
    for (const spec of routed) {
      await channel.assertExchange(spec.name, spec.type, exchangeOptions(spec));
    }

    // Queue bindings only: fanout exchanges and exchange-to-exchange bindings are layer 3's. The
    // arguments go as the data gives them: on a headers exchange they are what the binding matches.
    const routedNames = new Set(routed.map((spec) => spec.name));
    for (const binding of topology.bindings) {
      if (routedNames.has(binding.source) && binding.destinationKind === 'queue') {
        await channel.bindQueue(binding.destination, binding.source, binding.pattern, binding.arguments);
      }
    }
  },
};
