// Milestone 3: fanout. Every order status goes to email and SMS, and every event to the audit log,
// without any publisher knowing. Read README.md in this folder first.
// Run `npm run milestone -- 3` to watch it work, `npm run grade -- 3` to check it.
import type { FanoutLayer } from '../../shared/layers/03-fanout.ts';
import { todo } from '../../shared/workshop/exercise.ts';

export const fanout: FanoutLayer = {
  async declareFanout(channel, topology, exchangeOptions) {
    // 🐨 1. For every exchange in topology.exchanges whose type is 'fanout':
    //       await channel.assertExchange(spec.name, 'fanout', exchangeOptions(spec))
    //
    // 🐨 2. For every binding in topology.bindings that layer 2 left out, that is, whose source is
    //    one of those fanout exchanges, or whose destinationKind is 'exchange':
    //    - to a queue:     await channel.bindQueue(binding.destination, binding.source, binding.pattern)
    //    - to an exchange: await channel.bindExchange(binding.destination, binding.source, binding.pattern)
    //    💰 Both take the destination first, then the source. The pattern matters on the way out of
    //       order.exchange (a topic exchange); a fanout exchange ignores it.
    //
    // 💰 order.exchange and the queues already exist when this runs: layer 2 and the runtime came first.
    void [channel, topology, exchangeOptions];
    return todo(import.meta.url, 'declareFanout');
  },
};
