// The hints of `npm run hint -- 1`, one level at a time: the concept, then the API to use, then near-code.
export const hints: string[] = [
  'Buffer.from(JSON.stringify(event)) makes the body; the properties go in the options object.',
  'DomainEventSchema.safeParse tells you which field is wrong.',
];
