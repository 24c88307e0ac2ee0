// Milestone 3: fanout. Every order status goes to email and to the SMS channel, and every event to
// the audit log, without any publisher knowing. Read README.md in this folder first.
// Run `npm run milestone -- 3` to watch it work, `npm run grade -- 3` to check it,
// `npm run hint -- 3` when you are stuck.
import type { FanoutLayer } from '../../shared/layers/03-fanout.ts';
import { todo } from '../../shared/workshop/exercise.ts';

export const fanout: FanoutLayer = {
  async declareFanout(channel, topology, exchangeOptions) {
    // 🐨 Make the broker hold the topology's fanout exchanges (meets clause 1).
    // 🐨 Make it hold every binding milestone 2 left out: the ones from a fanout exchange and the ones
    //    to an exchange, as the data says them, and no other (meets clauses 2, 3, 4, 5, 6 and 7).
    // 💰 order.exchange and the queues already exist when this runs: layer 2 and the runtime came first.
    void [channel, topology, exchangeOptions];
    return todo(import.meta.url, 'declareFanout');
  },
};
