// Milestone 2: routing. Every service publishes its events to order.exchange, and each service
// queue is bound to exactly the event types it needs. Read README.md in this folder first.
// Run `npm run milestone -- 2` to watch it work, `npm run grade -- 2` to check it,
// `npm run hint -- 2` when you are stuck.
import type { RoutingLayer } from '../../shared/layers/02-routing.ts';
import type { DomainEvent } from '../../shared/messages/events.ts';
import { todo } from '../../shared/workshop/exercise.ts';

export const routing: RoutingLayer = {
  routingKeyFor(event: DomainEvent) {
    // 🐨 The key this event is published with on order.exchange (meets clause 1).
    void event;
    return todo(import.meta.url, 'routingKeyFor');
  },

  async declareRoutes(channel, topology, exchangeOptions) {
    // 🐨 Make the broker hold this layer's part of `topology`: its topic, direct and headers exchanges
    //    and the queue bindings that start from them, as the data says them (meets clauses 2 to 7).
    // 🐨 Every service runs this at every start, on a broker where it all exists already (meets clause 8).
    // 💰 The queues exist when this runs: the runtime declares them first.
    void [channel, topology, exchangeOptions];
    return todo(import.meta.url, 'declareRoutes');
  },
};
