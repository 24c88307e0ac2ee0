// Layer 2 (milestone 02): topic, direct and headers routing.
import type { Channel, Options } from 'amqplib';
import type { DomainEvent } from '../messages/events.ts';
import type { ExchangeSpec, Topology } from '../topology/types.ts';

export interface RoutingLayer {
  /** The routing key an event is published with on order.exchange: its type, for every event, express orders included. */
  routingKeyFor(event: DomainEvent): string;
  /**
   * Declares the topology's topic, direct and headers exchanges (with the options given) and binds
   * queues to them by routing key or pattern and with the binding's arguments (what a headers
   * exchange matches), exactly as the topology data says and nothing more. Fanout
   * exchanges and exchange-to-exchange bindings are layer 3's. Idempotent: run again where the whole
   * topology exists (every service does at every start), it succeeds and changes nothing.
   * The full contract: milestones/02-routing/README.md.
   */
  declareRoutes(channel: Channel, topology: Topology, exchangeOptions: (spec: ExchangeSpec) => Options.AssertExchange): Promise<void>;
}
