// Known-wrong routing layers for milestone 2: the mistakes people make with topic and direct exchanges.
import type { RoutingLayer } from '../../shared/layers/02-routing.ts';
import type { Topology } from '../../shared/topology/types.ts';
import { routing as reference } from '../../solutions/layers/02-routing.ts';
import { defineMutants } from './mutant.ts';

const routedExchanges = (topology: Topology) => topology.exchanges.filter((spec) => spec.type !== 'fanout');
const queueBindingsFrom = (topology: Topology, names: Set<string>) =>
  topology.bindings.filter((binding) => names.has(binding.source) && binding.destinationKind === 'queue');

/** The reference with one change to how it declares: each exchange's type and options, and which bindings. */
function declaring(change: {
  type?: (name: string, type: string) => string;
  options?: Parameters<RoutingLayer['declareRoutes']>[2];
  exchanges?: (topology: Topology) => Topology['exchanges'];
  bindings?: (topology: Topology, routed: Set<string>) => Topology['bindings'];
}): RoutingLayer {
  return {
    ...reference,
    async declareRoutes(channel, topology, exchangeOptions) {
      const exchanges = (change.exchanges ?? routedExchanges)(topology);
      for (const spec of exchanges) {
        await channel.assertExchange(spec.name, change.type?.(spec.name, spec.type) ?? spec.type, (change.options ?? exchangeOptions)(spec));
      }
      for (const binding of (change.bindings ?? queueBindingsFrom)(topology, new Set(exchanges.map((spec) => spec.name)))) {
        if (binding.destinationKind === 'queue') await channel.bindQueue(binding.destination, binding.source, binding.pattern);
        else await channel.bindExchange(binding.destination, binding.source, binding.pattern);
      }
    },
  };
}

export const mutants = defineMutants('routing', [
  {
    name: 'routing key is source.type (order.order.created) instead of the event type',
    breaks: ['02.routing-key', '02.in-the-system'],
    layer: { ...reference, routingKeyFor: (event) => `${event.source}.${event.type}` },
  },
  {
    name: 'declares order.exchange with { durable: true } only: no alternate exchange',
    breaks: ['02.exchanges', '02.unroutable'],
    layer: declaring({ options: () => ({ durable: true }) }),
  },
  {
    name: 'order.exchange declared as a direct exchange',
    breaks: ['02.exchanges'],
    layer: declaring({ type: (name, type) => (name === 'order.exchange' ? 'direct' : type) }),
  },
  {
    name: "binds every service queue with '#' instead of its event types",
    breaks: ['02.subscriptions', '02.unroutable'],
    layer: declaring({
      bindings: (topology, routed) =>
        queueBindingsFrom(topology, routed).map((binding) => (binding.source === 'order.exchange' ? { ...binding, pattern: '#' } : binding)),
    }),
  },
  {
    name: 'binds each service queue to the first event type it needs only',
    breaks: ['02.subscriptions', '02.in-the-system'],
    layer: declaring({
      bindings: (topology, routed) =>
        queueBindingsFrom(topology, routed).filter((binding, index, all) => all.findIndex((other) => other.destination === binding.destination) === index),
    }),
  },
  {
    name: 'declares topic exchanges only: retry.exchange and its bindings are missing',
    breaks: ['02.exchanges', '02.retry-route'],
    layer: declaring({ exchanges: (topology) => topology.exchanges.filter((spec) => spec.type === 'topic') }),
  },
  {
    name: "retry.exchange declared as fanout: every retry queue gets every failed message",
    breaks: ['02.exchanges', '02.retry-route'],
    layer: declaring({ type: (name, type) => (name === 'retry.exchange' ? 'fanout' : type) }),
  },
  {
    name: 'declares every exchange and binding, fanout and exchange-to-exchange ones too',
    breaks: ['02.no-fanout', '02.subscriptions'],
    layer: declaring({ exchanges: (topology) => topology.exchanges, bindings: (topology) => topology.bindings }),
  },
]);
