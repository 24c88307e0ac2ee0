// Milestone 2: routing. Every service publishes its events to order.exchange, and each service
// queue is bound to exactly the event types it needs. Read README.md in this folder first.
// Run `npm run milestone -- 2` to watch it work, `npm run grade -- 2` to check it,
// `npm run hint -- 2` when you are stuck.
import type { RoutingLayer } from '../../shared/layers/02-routing.ts';
import type { DomainEvent } from '../../shared/messages/events.ts';
import { todo } from '../../shared/workshop/exercise.ts';

export const routing: RoutingLayer = {
  routingKeyFor(event: DomainEvent) {
    // 🐨 The key every event is published with on order.exchange, so that the bindings of
    //    SUBSCRIPTIONS match it (README § Exchanges, bindings and routing keys). Express orders
    //    are no exception (README § The routing key is the type).
    void event;
    return todo(import.meta.url, 'routingKeyFor');
  },

  async declareRoutes(channel, topology, exchangeOptions) {
    // 🐨 Make the broker hold the topic and direct exchanges of `topology`, as the data describes
    //    them, and the queue bindings that start from them: no more, no less
    //    (README § Exchange types, § Where things are in the code).
    // 🐨 Fanout exchanges and exchange-to-exchange bindings belong to milestone 3: leave them out.
    // 🐨 Every service runs this at every start, on a broker where it all exists already: it must
    //    succeed there and change nothing (README § Declaring is idempotent).
    // 💰 The queues exist when this runs: the runtime declares them first.
    void [channel, topology, exchangeOptions];
    return todo(import.meta.url, 'declareRoutes');
  },
};
