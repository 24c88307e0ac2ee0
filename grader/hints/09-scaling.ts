// The hints of `npm run hint -- 9`, one level at a time: the concept, then the API to use, then near-code.
export const hints: string[] = [
  'Each worker needs its own channel: its own prefetch window, and closing it stops only that worker.',
];
