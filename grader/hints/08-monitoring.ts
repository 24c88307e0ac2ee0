// The hints of `npm run hint -- 8`, one level at a time: the concept, then the API to use, then near-code.
export const hints: string[] = [
  "Every number of QueueStats is a field of one queue's JSON in the management API, as the broker last sampled it: " +
    'ready and unacked have fields of their own (the total `messages` is neither), rates live inside `message_stats` next to counts, ' +
    'and a queue not sampled yet has none of them (0). Ask the API on every call; when it refuses, reject and say how it answered.',
  'fetch(url, { headers: { authorization } }) with HTTP basic auth (the target\'s "username:password", base64-encoded); look at response.ok / ' +
    'response.status before response.json(). The paths are /api/queues/{vhost}/{queue} and /api/queues/{vhost}, each name through ' +
    'encodeURIComponent. The fields: messages_ready, messages_unacknowledged, consumers, message_stats.publish_details.rate, ' +
    'message_stats.deliver_get_details.rate.',
  'const url = `${target.baseUrl.replace(/\\/$/, \'\')}/api${path}`;\n' +
    "const authorization = `Basic ${Buffer.from(`${target.username}:${target.password}`).toString('base64')}`;\n" +
    'const response = await fetch(url, { headers: { authorization }, signal: AbortSignal.timeout(5_000) });\n' +
    'if (!response.ok) throw new Error(`GET ${path} answered ${response.status} ${response.statusText}`);\n' +
    '// toStats: ready: info.messages_ready ?? 0, ..., publishRate: info.message_stats?.publish_details?.rate ?? 0\n' +
    '// list: (await getJson(target, `/queues/${encodeURIComponent(target.vhost)}`)) parsed with z.array(QueueInfo), mapped, sorted by name',
];
