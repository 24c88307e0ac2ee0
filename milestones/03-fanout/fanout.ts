// Milestone 3: fanout. Every order status goes to email and SMS, and every event to the audit log,
// without any publisher knowing. Read README.md in this folder first.
// Run `npm run milestone -- 3` to watch it work, `npm run grade -- 3` to check it,
// `npm run hint -- 3` when you are stuck.
import type { FanoutLayer } from '../../shared/layers/03-fanout.ts';
import { todo } from '../../shared/workshop/exercise.ts';

export const fanout: FanoutLayer = {
  async declareFanout(channel, topology, exchangeOptions) {
    // 🐨 Make the broker hold the topology's fanout exchanges, as the data and exchangeOptions
    //    describe them (README § The fanout exchange).
    // 🐨 ...and every binding milestone 2 left out: the ones from a fanout exchange, and the ones
    //    whose destination is an exchange, each pointing the way the data says
    //    (README § Exchange-to-exchange bindings). No other binding.
    // 💰 order.exchange and the queues already exist when this runs: layer 2 and the runtime came first.
    void [channel, topology, exchangeOptions];
    return todo(import.meta.url, 'declareFanout');
  },
};
