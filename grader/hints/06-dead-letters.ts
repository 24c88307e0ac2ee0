// The hints of `npm run hint -- 6`, one level at a time: the concept, then the API to use, then near-code.
export const hints: string[] = [
  'nack(message, false, false) dead-letters a message; x-death counts how often that happened.',
];
