// Milestone 2: routing. Every service publishes its events to order.exchange, and each service
// queue is bound to exactly the event types it needs. Read README.md in this folder first.
// Run `npm run milestone -- 2` to watch it work, `npm run grade -- 2` to check it.
import type { RoutingLayer } from '../../shared/layers/02-routing.ts';
import type { DomainEvent } from '../../shared/messages/events.ts';
import { todo } from '../../shared/workshop/exercise.ts';

export const routing: RoutingLayer = {
  routingKeyFor(event: DomainEvent) {
    // 🐨 Return the routing key this event is published with on order.exchange: its type
    //    (for example 'payment.success'), so that bindings like 'order.*' can match on it.
    void event;
    return todo(import.meta.url, 'routingKeyFor');
  },

  async declareRoutes(channel, topology, exchangeOptions) {
    // 🐨 1. For every exchange in topology.exchanges whose type is 'topic' or 'direct':
    //       await channel.assertExchange(spec.name, spec.type, exchangeOptions(spec))
    //    💰 exchangeOptions(spec) makes it durable and gives order.exchange its alternate exchange.
    //    🐨 Skip the 'fanout' exchanges: they are milestone 3's.
    //
    // 🐨 2. For every binding in topology.bindings whose source is one of those exchanges and whose
    //       destinationKind is 'queue':
    //       await channel.bindQueue(binding.destination, binding.source, binding.pattern)
    //    🐨 Skip bindings to exchanges (destinationKind 'exchange'): milestone 3 declares those.
    //
    // 💰 The queues already exist when this runs: the runtime declares them first.
    void [channel, topology, exchangeOptions];
    return todo(import.meta.url, 'declareRoutes');
  },
};
