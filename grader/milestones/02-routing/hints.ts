// The hints of `npm run hint -- 2`, one level at a time: the concept, then the API to use, then the
// hard part shown on another example. They narrow; they never solve (grader/tests/hint.test.ts).
export const hints: string[] = [
  // The concept.
  'Your layer does not invent the topology, it copies part of it from the data onto the broker: the exchanges of this ' +
    "milestone's types, and only the bindings that start from one of them and end at a queue. Everything else in the data " +
    'belongs to milestone 3. The key a publisher uses is what those bindings were written to match; on a headers exchange ' +
    "the key is ignored and the binding's arguments are the whole rule, so they are copied as they are too.",
  // The API.
  'channel.assertExchange(name, type, options) declares an exchange, and succeeds again unchanged when name, type and ' +
    'options are the same; channel.bindQueue(queue, exchange, pattern, args) binds, the queue first. The exchangeOptions you are ' +
    "given turns an exchange's spec into its options (durable, and its alternate exchange): use it rather than writing " +
    'options yourself. topology.exchanges are { name, type }, topology.bindings { source, destination, destinationKind, pattern, ' +
    'arguments? }.',
  // The hard part, on another example.
  [
    "A library's topology, not yours: 'loans' (topic) is this layer's, 'archive' (fanout) is not.",
    "await channel.assertExchange('loans', 'topic', optionsFor(loansSpec));  // the spec's own options, not { durable: true }",
    "await channel.bindQueue('reminders', 'loans', 'loan.overdue');  // queue, exchange, pattern: the receiver first",
    "await channel.bindQueue('reminders', 'loans', 'loan.overdue');  // again at the next start: still one binding",
    "await channel.bindQueue('holds', 'desk', '', { 'x-match': 'all', member: true });  // headers: true, not 'true'",
    "// skipped: the 'archive' exchange, and the binding loans → archive (its destination is an exchange)",
    "// publishing: channel.publish('loans', 'loan.overdue', body): the key is the kind, the same for every reader",
  ].join('\n'),
];
