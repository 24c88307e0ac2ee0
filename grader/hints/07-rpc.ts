// The hints of `npm run hint -- 7`, one level at a time: the concept, then the API to use, then near-code.
export const hints: string[] = [
  'One reply queue per client; match replies to calls by correlation id.',
];
