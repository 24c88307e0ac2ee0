// The hints of `npm run hint -- 3`, one level at a time: the concept, then the API to use, then the
// hard part shown on another example. They narrow; they never solve (grader/tests/hint.test.ts).
export const hints: string[] = [
  // The concept.
  'Two kinds of binding are yours, and they are easy to tell apart in the data: the ones that start at a fanout exchange, ' +
    'and the ones that end at an exchange. Milestone 2 declared the rest, and a binding too many copies messages as surely ' +
    'as a missing one loses them. An exchange-to-exchange binding has a direction: the copies flow from its source to its ' +
    'destination, never back.',
  // The API.
  'channel.assertExchange(name, "fanout", options), with the options exchangeOptions(spec) gives; ' +
    'channel.bindQueue(queue, source, pattern) and channel.bindExchange(destination, source, pattern): in both, the side that ' +
    'receives comes first. A binding in the data has source, destination, destinationKind ("queue" or "exchange") and pattern: ' +
    'pass the pattern as it is, even where a fanout ignores it.',
  // The hard part, on another example.
  [
    "A newsroom, not your system: 'wire' (topic) feeds the fanout 'breaking' with one family of keys.",
    "await channel.bindExchange('breaking', 'wire', 'alert.*');  // 'breaking' RECEIVES from 'wire'",
    "// swapped, bindExchange('wire', 'breaking', 'alert.*') is accepted too, and the copies flow backwards",
    "await channel.bindQueue('pager', 'breaking', '');  // from a fanout: its queues get every copy",
    "// which bindings of the data are these? source is a fanout exchange, or destinationKind is 'exchange'",
  ].join('\n'),
];
