// Known-wrong fanout layers for milestone 3: the mistakes people make with fanout exchanges and
// exchange-to-exchange bindings.
import type { FanoutLayer } from '../../../shared/layers/03-fanout.ts';
import type { Options } from 'amqplib';
import { EXCHANGES } from '../../../shared/topology/topology.ts';
import type { BindingSpec, ExchangeSpec, Topology } from '../../../shared/topology/types.ts';
import { fanout as reference } from '../../../solutions/layers/03-fanout.ts';
import { defineAlternatives, defineMutants } from '../../mutant.ts';

/** The bindings layer 3 owns: from a fanout exchange, or to an exchange. */
const layer3Bindings = (topology: Topology, fanouts: Set<string>) =>
  topology.bindings.filter((binding) => fanouts.has(binding.source) || binding.destinationKind === 'exchange');

/** The reference with one change: each exchange's type and options, which bindings, or how an exchange binding is made. */
function declaring(change: {
  type?: string;
  /** The options each exchange is declared with, instead of the ones given. */
  options?: (spec: ExchangeSpec, given: Parameters<FanoutLayer['declareFanout']>[2]) => Options.AssertExchange;
  bindings?: (bindings: BindingSpec[]) => BindingSpec[];
  swapExchangeBindings?: boolean;
}): FanoutLayer {
  return {
    async declareFanout(channel, topology, exchangeOptions) {
      const fanouts = topology.exchanges.filter((spec) => spec.type === 'fanout');
      for (const spec of fanouts)
        await channel.assertExchange(
          spec.name,
          change.type ?? 'fanout',
          change.options ? change.options(spec, exchangeOptions) : exchangeOptions(spec),
        );
      const all = layer3Bindings(topology, new Set(fanouts.map((spec) => spec.name)));
      for (const { source, destination, destinationKind, pattern } of (change.bindings ?? ((b) => b))(all)) {
        if (destinationKind === 'queue') await channel.bindQueue(destination, source, pattern);
        else if (change.swapExchangeBindings) await channel.bindExchange(source, destination, pattern);
        else await channel.bindExchange(destination, source, pattern);
      }
    },
  };
}

const isAuditLink = (b: BindingSpec) => b.source === 'order.exchange' && b.destination === 'audit.fanout.exchange';
const isNotificationLink = (b: BindingSpec) => b.source === 'order.exchange' && b.destination === 'notification.exchange';

/**
 * As a learner writes it from an old diagram: the fanout exchanges and their queues from the data, but
 * the audited families typed in by hand, and saga.* (added later) is not among them.
 */
const olderAuditList: FanoutLayer = {
  async declareFanout(channel, topology, exchangeOptions) {
    for (const spec of topology.exchanges.filter((s) => s.type === 'fanout'))
      await channel.assertExchange(spec.name, 'fanout', exchangeOptions(spec));
    for (const family of ['order', 'inventory', 'payment', 'shipping', 'delivery'])
      await channel.bindExchange('audit.fanout.exchange', 'order.exchange', `${family}.*`);
    await channel.bindExchange('notification.exchange', 'order.exchange', 'order.*');
    await channel.bindQueue('audit.queue', 'audit.fanout.exchange', '');
    await channel.bindQueue('notification.email.queue', 'notification.exchange', '');
    await channel.bindExchange('notification.sms.exchange', 'notification.exchange', '');
    await channel.bindQueue('unroutable.queue', 'unroutable.exchange', '');
    await channel.bindQueue('dead-letter.queue', 'dead-letter.exchange', '');
  },
};

export const mutants = defineMutants('fanout', [
  {
    name: "declares the fanout exchanges as 'direct'",
    breaks: ['03.fanout-exchanges', '03.order-events', '03.key-ignored'],
    layer: declaring({ type: 'direct' }),
  },
  {
    name: 'declares them with { durable: false } instead of exchangeOptions(spec)',
    breaks: ['03.fanout-exchanges'],
    layer: declaring({ options: () => ({ durable: false }) }),
  },
  {
    name: 'declares the fanout exchanges auto-delete: they only broadcast to the queues bound to them',
    breaks: ['03.fanout-exchanges'],
    layer: declaring({ options: (spec, given) => ({ ...given(spec), autoDelete: true }) }),
  },
  {
    name: 'declares notification.exchange auto-delete: without a notification queue it has nobody to tell',
    breaks: ['03.fanout-exchanges'],
    layer: declaring({ options: (spec, given) => ({ ...given(spec), autoDelete: spec.name === EXCHANGES.notification }) }),
  },
  {
    name: 'exchange-to-exchange bindings with source and destination swapped',
    breaks: ['03.order-events', '03.other-families', '03.key-ignored', '03.bindings', '03.in-the-system'],
    layer: declaring({ swapExchangeBindings: true }),
  },
  {
    name: "binds order.exchange to the audit exchange with '#' instead of one pattern per family",
    breaks: ['03.unroutable', '03.bindings'],
    layer: declaring({
      bindings: (bindings) => [
        ...bindings.filter((b) => !isAuditLink(b)),
        { source: 'order.exchange', destination: 'audit.fanout.exchange', destinationKind: 'exchange', pattern: '#' },
      ],
    }),
  },
  {
    name: "binds notifications with '#': every event reaches email and SMS",
    breaks: ['03.other-families', '03.unroutable', '03.bindings'],
    layer: declaring({ bindings: (bindings) => bindings.map((b) => (isNotificationLink(b) ? { ...b, pattern: '#' } : b)) }),
  },
  {
    name: 'binds only the email queue to notification.exchange: the SMS channel is an exchange, so it is forgotten',
    breaks: ['03.order-events', '03.bindings', '03.in-the-system'],
    layer: declaring({ bindings: (bindings) => bindings.filter((b) => b.destination !== EXCHANGES.notificationSms) }),
  },
  {
    name: 'binds the SMS queue straight to notification.exchange, as before the headers exchange: every order event is texted',
    breaks: ['03.order-events', '03.key-ignored', '03.bindings'],
    layer: declaring({
      bindings: (bindings) => [
        ...bindings.filter((b) => b.destination !== EXCHANGES.notificationSms),
        { source: EXCHANGES.notification, destination: 'notification.sms.queue', destinationKind: 'queue', pattern: '' },
      ],
    }),
  },
  {
    name: 'forgets the unroutable and dead-letter queue bindings',
    breaks: ['03.unroutable', '03.key-ignored', '03.bindings'],
    layer: declaring({
      bindings: (bindings) => bindings.filter((b) => b.destination !== 'unroutable.queue' && b.destination !== 'dead-letter.queue'),
    }),
  },
  {
    name: 'audits order.* events only (the first pattern)',
    breaks: ['03.other-families', '03.bindings', '03.in-the-system'],
    layer: declaring({ bindings: (bindings) => bindings.filter((b) => !isAuditLink(b) || b.pattern === 'order.*') }),
  },
  {
    name: "audits the families of the lesson's older list, written from memory: order, inventory, payment, shipping, delivery (no saga.*)",
    breaks: ['03.other-families', '03.bindings'],
    layer: olderAuditList,
  },
  {
    name: "gives every binding the key '' ('a fanout exchange ignores the key'), the exchange-to-exchange ones from the topic exchange too",
    breaks: ['03.order-events', '03.other-families', '03.bindings', '03.in-the-system'],
    layer: declaring({ bindings: (bindings) => bindings.map((b) => ({ ...b, pattern: '' })) }),
  },
  {
    name: 'binds both notification queues straight to order.exchange with order.*, not through notification.exchange',
    breaks: ['03.bindings'],
    layer: declaring({
      bindings: (bindings) => [
        ...bindings.filter((b) => !isNotificationLink(b)),
        ...['notification.email.queue', 'notification.sms.queue'].map((queue): BindingSpec => ({
          source: 'order.exchange',
          destination: queue,
          destinationKind: 'queue',
          pattern: 'order.*',
        })),
      ],
    }),
  },
]);

/** Another correct fanout layer: exchanges in parallel, then each binding by its kind, in parallel too. */
const allAtOnce: FanoutLayer = {
  async declareFanout(channel, topology, exchangeOptions) {
    const fanouts = topology.exchanges.filter(({ type }) => type === 'fanout');
    await Promise.all(fanouts.map((spec) => channel.assertExchange(spec.name, spec.type, exchangeOptions(spec))));
    const names = fanouts.map(({ name }) => name);
    const exchangeLinks = topology.bindings.filter((b) => b.destinationKind === 'exchange');
    const queueLinks = topology.bindings.filter((b) => b.destinationKind === 'queue' && names.includes(b.source));
    await Promise.all([
      ...exchangeLinks.map((b) => channel.bindExchange(b.destination, b.source, b.pattern)),
      ...queueLinks.map((b) => channel.bindQueue(b.destination, b.source, b.pattern)),
    ]);
  },
};

/** Another correct one: the reference run twice (declaring is idempotent: the broker keeps one of each binding). */
const twice: FanoutLayer = {
  async declareFanout(channel, topology, exchangeOptions) {
    await reference.declareFanout(channel, topology, exchangeOptions);
    await reference.declareFanout(channel, topology, exchangeOptions);
  },
};

/** Another correct one: every binding of the topology, layer 2's included (the broker keeps one of each). */
const everyBinding: FanoutLayer = {
  async declareFanout(channel, topology, exchangeOptions) {
    for (const spec of topology.exchanges.filter((e) => e.type === 'fanout'))
      await channel.assertExchange(spec.name, spec.type, exchangeOptions(spec));
    for (const { source, destination, destinationKind, pattern, arguments: args } of topology.bindings) {
      if (destinationKind === 'queue') await channel.bindQueue(destination, source, pattern, args);
      else await channel.bindExchange(destination, source, pattern, args);
    }
  },
};

export const alternatives = defineAlternatives('fanout', [
  { name: 'exchanges, then every binding, each group in parallel', layer: allAtOnce },
  { name: 'everything declared twice', layer: twice },
  { name: "every binding of the topology, layer 2's too", layer: everyBinding },
]);
