// Layer 3 (milestone 03): broadcasting with fanout exchanges.
import type { Channel, Options } from 'amqplib';
import type { ExchangeSpec, Topology } from '../topology/types.ts';

export interface FanoutLayer {
  /**
   * Declares the topology's fanout exchanges (with the options given), binds queues to them, and
   * declares every exchange-to-exchange binding (for example order.exchange → audit.fanout.exchange).
   * Runs after layer 2, so the exchanges it binds from and to exist (notification.exchange feeds
   * the headers exchange notification.sms.exchange). Exactly the bindings of the topology that
   * layer 2 leaves out (from a fanout exchange, or to an exchange), each from its source to its
   * destination, and no other. The full contract: milestones/03-fanout/README.md.
   */
  declareFanout(channel: Channel, topology: Topology, exchangeOptions: (spec: ExchangeSpec) => Options.AssertExchange): Promise<void>;
}
