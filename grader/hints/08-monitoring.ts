// The hints of `npm run hint -- 8`, one level at a time: the concept, then the API to use, then near-code.
export const hints: string[] = [
  'GET /api/queues/{vhost}/{name} with basic auth; encode the vhost ("/" is %2F).',
];
