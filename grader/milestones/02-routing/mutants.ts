// Known-wrong routing layers for milestone 2: the mistakes people make with topic, direct and headers exchanges.
import type { RoutingLayer } from '../../../shared/layers/02-routing.ts';
import type { Options } from 'amqplib';
import { EXCHANGES } from '../../../shared/topology/topology.ts';
import type { BindingSpec, ExchangeSpec, Topology } from '../../../shared/topology/types.ts';
import { routing as reference } from '../../../solutions/layers/02-routing.ts';
import { defineAlternatives, defineMutants } from '../../mutant.ts';

const routedExchanges = (topology: Topology) => topology.exchanges.filter((spec) => spec.type !== 'fanout');
const queueBindingsFrom = (topology: Topology, names: Set<string>) =>
  topology.bindings.filter((binding) => names.has(binding.source) && binding.destinationKind === 'queue');

/** The reference with one change to how it declares: each exchange's type and options, and which bindings. */
function declaring(change: {
  /** Runs before each exchange is declared. */
  before?: (channel: Parameters<RoutingLayer['declareRoutes']>[0], name: string) => Promise<unknown>;
  type?: (name: string, type: string) => string;
  /** The options each exchange is declared with, instead of the ones given. */
  options?: (spec: ExchangeSpec, given: Parameters<RoutingLayer['declareRoutes']>[2]) => Options.AssertExchange;
  exchanges?: (topology: Topology) => Topology['exchanges'];
  bindings?: (topology: Topology, routed: Set<string>) => Topology['bindings'];
  /** The arguments each binding is declared with, instead of the data's (only the SMS binding has some). */
  arguments?: (given: BindingSpec['arguments']) => Record<string, unknown> | undefined;
}): RoutingLayer {
  return {
    ...reference,
    async declareRoutes(channel, topology, exchangeOptions) {
      const exchanges = (change.exchanges ?? routedExchanges)(topology);
      for (const spec of exchanges) {
        await change.before?.(channel, spec.name);
        await channel.assertExchange(
          spec.name,
          change.type?.(spec.name, spec.type) ?? spec.type,
          change.options ? change.options(spec, exchangeOptions) : exchangeOptions(spec),
        );
      }
      for (const binding of (change.bindings ?? queueBindingsFrom)(topology, new Set(exchanges.map((spec) => spec.name)))) {
        const args = change.arguments ? change.arguments(binding.arguments) : binding.arguments;
        if (binding.destinationKind === 'queue') await channel.bindQueue(binding.destination, binding.source, binding.pattern, args);
        else await channel.bindExchange(binding.destination, binding.source, binding.pattern, args);
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
    name: 'express orders routed under their own key (order.created.express)',
    breaks: ['02.routing-key', '02.in-the-system'],
    layer: { ...reference, routingKeyFor: (event) => (event.express ? `${event.type}.express` : event.type) },
  },
  {
    name: 'declares order.exchange with { durable: true } only: no alternate exchange',
    breaks: ['02.exchanges', '02.unroutable', '02.redeclare'],
    layer: declaring({ options: () => ({ durable: true }) }),
  },
  {
    name: 'declares its exchanges auto-delete, as they only serve the queues bound to them',
    breaks: ['02.exchanges'],
    layer: declaring({ options: (spec, given) => ({ ...given(spec), autoDelete: true }) }),
  },
  {
    name: 'declares retry.exchange auto-delete: it only carries failed messages for a while',
    breaks: ['02.exchanges'],
    layer: declaring({ options: (spec, given) => ({ ...given(spec), autoDelete: spec.name === EXCHANGES.retry }) }),
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
        queueBindingsFrom(topology, routed).map((binding) =>
          binding.source === 'order.exchange' ? { ...binding, pattern: '#' } : binding,
        ),
    }),
  },
  {
    name: 'binds each service queue to the first event type it needs only',
    breaks: ['02.subscriptions', '02.in-the-system'],
    layer: declaring({
      bindings: (topology, routed) =>
        queueBindingsFrom(topology, routed).filter(
          (binding, index, all) => all.findIndex((other) => other.destination === binding.destination) === index,
        ),
    }),
  },
  {
    name: 'declares topic exchanges only: retry.exchange and its bindings are missing',
    breaks: ['02.exchanges', '02.retry-route'],
    layer: declaring({ exchanges: (topology) => topology.exchanges.filter((spec) => spec.type === 'topic') }),
  },
  {
    name: 'retry.exchange declared as fanout: every retry queue gets every failed message',
    breaks: ['02.exchanges', '02.retry-route'],
    layer: declaring({ type: (name, type) => (name === 'retry.exchange' ? 'fanout' : type) }),
  },
  {
    name: 'binds each retry queue with its own name (inventory.queue.retry) as the key',
    breaks: ['02.retry-route'],
    layer: declaring({
      bindings: (topology, routed) =>
        queueBindingsFrom(topology, routed).map((binding) =>
          binding.source === 'retry.exchange' ? { ...binding, pattern: binding.destination } : binding,
        ),
    }),
  },
  {
    name: "binds the retry queues with '#', as on a topic exchange",
    breaks: ['02.retry-route'],
    layer: declaring({
      bindings: (topology, routed) =>
        queueBindingsFrom(topology, routed).map((binding) =>
          binding.source === 'retry.exchange' ? { ...binding, pattern: '#' } : binding,
        ),
    }),
  },
  {
    name: 'binds one extra pattern per service queue (its family, payment.*), just in case',
    breaks: ['02.subscriptions'],
    layer: declaring({
      bindings: (topology, routed) => {
        const bindings = queueBindingsFrom(topology, routed);
        const families = bindings
          .filter((b) => b.source === 'order.exchange')
          .map((b) => ({ ...b, pattern: `${b.destination.split('.')[0]}.*` }));
        return [...bindings, ...families];
      },
    }),
  },
  {
    name: 'binds the SMS queue with x-match any: one matching header is enough',
    breaks: ['02.headers-route', '02.redeclare'],
    layer: declaring({ arguments: (given) => given && { ...given, 'x-match': 'any' } }),
  },
  {
    name: 'leaves x-match out of the arguments (all is the default)',
    breaks: ['02.headers-route', '02.redeclare'],
    layer: declaring({ arguments: (given) => given && Object.fromEntries(Object.entries(given).filter(([key]) => key !== 'x-match')) }),
  },
  {
    name: 'binds the header values as the string "true", as they read in a config file',
    breaks: ['02.headers-route', '02.redeclare'],
    layer: declaring({
      arguments: (given) =>
        given && Object.fromEntries(Object.entries(given).map(([key, value]) => [key, typeof value === 'boolean' ? String(value) : value])),
    }),
  },
  {
    name: 'binds every queue by its pattern only: the arguments are dropped',
    breaks: ['02.headers-route', '02.redeclare'],
    layer: declaring({ arguments: () => undefined }),
  },
  {
    name: 'declares the fanout exchanges and their queue bindings too (not the exchange-to-exchange ones)',
    breaks: ['02.exchanges'],
    layer: declaring({ exchanges: (topology) => topology.exchanges }),
  },
  {
    name: 'deletes each exchange before declaring it, to start from a clean slate',
    breaks: ['02.redeclare'],
    layer: declaring({ before: (channel, name) => channel.deleteExchange(name) }),
  },
  {
    name: 'declares every exchange and binding, fanout and exchange-to-exchange ones too',
    breaks: ['02.exchanges', '02.subscriptions'],
    layer: declaring({ exchanges: (topology) => topology.exchanges, bindings: (topology) => topology.bindings }),
  },
]);

/** Another correct routing layer: by exchange, its bindings right after it, all declared at once. */
const exchangeByExchange: RoutingLayer = {
  routingKeyFor: ({ type }) => type,
  async declareRoutes(channel, topology, exchangeOptions) {
    for (const spec of topology.exchanges) {
      if (spec.type === 'fanout') continue;
      await channel.assertExchange(spec.name, spec.type, exchangeOptions(spec));
      const mine = topology.bindings.filter((b) => b.source === spec.name && b.destinationKind === 'queue');
      await Promise.all(mine.map((b) => channel.bindQueue(b.destination, b.source, b.pattern, b.arguments)));
    }
  },
};

/** Another correct one: each binding declared twice (the broker keeps one), exchanges in reverse order. */
const bindsTwice: RoutingLayer = {
  routingKeyFor: (event) => String(event.type),
  async declareRoutes(channel, topology, exchangeOptions) {
    const routed = [...topology.exchanges].reverse().filter((spec) => spec.type !== 'fanout');
    for (const spec of routed) await channel.assertExchange(spec.name, spec.type, exchangeOptions(spec));
    const names = routed.map((spec) => spec.name);
    for (const round of [1, 2]) {
      void round;
      for (const b of topology.bindings)
        if (names.includes(b.source) && b.destinationKind !== 'exchange')
          await channel.bindQueue(b.destination, b.source, b.pattern, b.arguments ?? {});
    }
  },
};

/**
 * Another correct one: the headers exchange first, and a binding's arguments rebuilt entry by entry,
 * in another order (neither the match nor the broker's binding depends on it).
 */
const headersFirst: RoutingLayer = {
  routingKeyFor: (event) => event.type,
  async declareRoutes(channel, topology, exchangeOptions) {
    const rank = { headers: 0, topic: 1, direct: 2, fanout: 3 };
    const mine = topology.exchanges.filter((spec) => spec.type !== 'fanout').sort((a, b) => rank[a.type] - rank[b.type]);
    for (const spec of mine) await channel.assertExchange(spec.name, spec.type, exchangeOptions(spec));
    for (const spec of mine) {
      for (const b of topology.bindings.filter((b) => b.source === spec.name && b.destinationKind === 'queue')) {
        const args: Record<string, unknown> = {};
        for (const [key, value] of Object.entries(b.arguments ?? {}).reverse()) args[key] = value;
        await channel.bindQueue(b.destination, b.source, b.pattern, args);
      }
    }
  },
};

export const alternatives = defineAlternatives('routing', [
  { name: 'exchange by exchange, its bindings in parallel', layer: exchangeByExchange },
  { name: 'every binding declared twice, exchanges in reverse order', layer: bindsTwice },
  { name: 'the headers exchange first, its binding arguments rebuilt in another order', layer: headersFirst },
]);
