// Layer 2 (milestone 02): topic and direct routing.
import type { Channel, Options } from 'amqplib';
import type { DomainEvent } from '../messages/events.ts';
import type { ExchangeSpec, Topology } from '../topology/types.ts';

export interface RoutingLayer {
  /** The routing key an event is published with on order.exchange. */
  routingKeyFor(event: DomainEvent): string;
  /**
   * Declares the topology's topic and direct exchanges (with the options given) and binds queues to
   * them by routing key or pattern. Fanout exchanges and exchange-to-exchange bindings are layer 3's.
   */
  declareRoutes(channel: Channel, topology: Topology, exchangeOptions: (spec: ExchangeSpec) => Options.AssertExchange): Promise<void>;
}
