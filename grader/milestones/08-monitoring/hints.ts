// The hints of `npm run hint -- 8`, one level at a time: the concept, then the API to use, then the
// hard part shown on another example. They narrow; they never solve (grader/tests/hint.test.ts).
export const hints: string[] = [
  // The concept.
  "The management API answers with the broker's last sample, not a live count, and a queue it has not sampled yet simply " +
    'lacks those fields: absent means 0, not an error and not undefined. Several numbers look alike: the total is neither ' +
    'ready nor unacked, and a count sits next to every rate. An answer that is a refusal (404, 401) is not a queue with zero ' +
    'messages: say what the API answered. Ask again at every call; the numbers are only worth what they are now.',
  // The API.
  'fetch(url, { headers: { authorization: `Basic ${base64 of "user:password"}` } }); check response.ok and response.status ' +
    'before response.json(). GET /api/queues/{vhost}/{name} is one queue, GET /api/queues/{vhost} every queue of that vhost ' +
    "(/api/queues alone is every vhost's). A queue's answer has messages_ready, messages_unacknowledged, consumers and, " +
    'once sampled, message_stats.publish_details.rate and message_stats.deliver_get_details.rate. zod: .optional() for a ' +
    'field that may be missing, z.array(schema) for a list.',
  // The hard part, on another example.
  [
    "An exchange's publish rate, not a queue's numbers: the same decisions, on GET /api/exchanges/{vhost}/{name}.",
    'const ExchangeInfo = z.object({',
    '  name: z.string(),',
    '  message_stats: z.object({ publish_in_details: z.object({ rate: z.number() }).optional() }).optional(),',
    '});  // describe only what you read; everything sampled may be missing',
    'const inRate = ExchangeInfo.parse(answer).message_stats?.publish_in_details?.rate ?? 0;  // the rate, not the count',
    "const base = baseUrl.replace(/\\/+$/, '');  // 'http://h:15672/' and 'https://ops.example.com/rabbit' both work",
    'const url = `${base}/api/exchanges/${encodeURIComponent(vhost)}/${encodeURIComponent(name)}`;  // one segment each',
    'const answer = await fetch(url, { signal: AbortSignal.timeout(3_000) });  // an API that never answers must not hang you',
  ].join('\n'),
];
