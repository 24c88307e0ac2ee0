// The hints of `npm run hint -- 5`, one level at a time: the concept, then the API to use, then near-code.
export const hints: string[] = [
  'Ack after the handler resolves, never before.',
  'channel.prefetch(n) must come before channel.consume.',
];
