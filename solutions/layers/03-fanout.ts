// Layer 3: fanout exchanges copy every message to every bound queue or exchange, ignoring the key.
import type { FanoutLayer } from '../../shared/layers/03-fanout.ts';

export const fanout: FanoutLayer = {
  async declareFanout(channel, topology, exchangeOptions) {
    const fanouts = topology.exchanges.filter((spec) => spec.type === 'fanout');
    for (const spec of fanouts) {
      await channel.assertExchange(spec.name, 'fanout', exchangeOptions(spec));
    }

    // Every binding layer 2 leaves out: those from a fanout exchange, and exchange-to-exchange ones
    // (order.exchange → audit.fanout.exchange by pattern), so each binding is declared exactly once.
    const fanoutNames = new Set(fanouts.map((spec) => spec.name));
    for (const { source, destination, destinationKind, pattern, arguments: args } of topology.bindings) {
      if (!fanoutNames.has(source) && destinationKind !== 'exchange') continue;
      if (destinationKind === 'queue') await channel.bindQueue(destination, source, pattern, args);
      else await channel.bindExchange(destination, source, pattern, args);
    }
  },
};
