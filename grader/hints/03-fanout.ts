// The hints of `npm run hint -- 3`, one level at a time: the concept, then the API to use, then near-code.
export const hints: string[] = [
  "A fanout exchange copies every message to everything bound to it, whatever the key. order.exchange reaches the fanout exchanges through exchange-to-exchange bindings, one per pattern of the topology; the fanout exchanges reach their queues through queue bindings. Your layer declares the fanout exchanges and exactly the bindings milestone 2 did not: from a fanout exchange, or to an exchange.",
  'channel.assertExchange(name, type, options) declares an exchange; channel.bindQueue(queue, exchange, pattern) and channel.bindExchange(destination, source, pattern) bind, the receiving side first in both. exchangeOptions(spec) gives each exchange its options; a BindingSpec has source, destination, destinationKind and pattern.',
  'Declare each exchange of type fanout with exchangeOptions(spec), awaiting each; keep their names in a Set; then for each binding whose source is in the Set or whose destinationKind is "exchange": to a queue, bindQueue(destination, source, pattern); to an exchange, bindExchange(destination, source, pattern).',
];
