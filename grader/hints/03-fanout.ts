// The hints of `npm run hint -- 3`, one level at a time: the concept, then the API to use, then near-code.
export const hints: string[] = [
  'bindExchange(destination, source, pattern) copies messages from one exchange into another.',
];
