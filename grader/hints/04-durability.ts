// The hints of `npm run hint -- 4`, one level at a time: the concept, then the API to use, then near-code.
export const hints: string[] = [
  'A ConfirmChannel calls your publish callback with an error on nack, and with none on ack.',
  'An unroutable mandatory message comes back as a "return" event before its ack.',
];
