// The hints of `npm run hint -- 9`, one level at a time: the concept, then the API to use, then near-code.
export const hints: string[] = [
  'Each worker needs its own channel: its own prefetch window, and closing it stops only that worker. A leaving worker first ' +
    'stops taking messages and finishes the ones it holds, and only then lets its channel go. Priorities need two halves: the ' +
    'queue declared as a priority queue (only where the spec asks), and every express event, of any type, published higher.',
  'Growing: openChannel(), then startConsumer(channel); if that throws, close the channel and rethrow. Shrinking: ' +
    'consumer.stop() (it cancels and waits for the in-flight acks), then channel.close() (which rejects on a channel the broker ' +
    "already closed). queueArguments: { 'x-max-priority': spec.maxPriority } or {}; priorityFor: EXPRESS_PRIORITY when event.express.",
  'while (running.length < target) { const channel = await openChannel(); try { running.push({ channel, consumer: await startConsumer(channel) }); } ' +
    'catch (error) { await channel.close().catch(() => {}); throw error; } }\n' +
    'const leaving = running.splice(target); // the newest\n' +
    'await Promise.all(leaving.map(async ({ channel, consumer }) => { await consumer.stop(); await channel.close().catch(() => {}); }));',
];
