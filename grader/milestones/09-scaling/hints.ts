// The hints of `npm run hint -- 9`, one level at a time: the concept, then the API to use, then the
// hard part shown on another example. They narrow; they never solve (grader/tests/hint.test.ts).
export const hints: string[] = [
  // The concept.
  'A worker is a pair, a channel and the one consumer on it, and the pool counts only pairs that are complete. Growing can ' +
    'fail halfway: the channel opened, the consumer did not start; then nothing of the newcomer may stay open. Shrinking ' +
    'has an order: the leaving worker first stops taking and finishes what it holds, and only then gives its channel back. ' +
    'Priority has two halves: the queue must be declared able to sort, and every message that should overtake must say so.',
  // The API.
  'openChannel() gives a fresh channel; startConsumer(channel) starts the one consumer on it and resolves with a handle ' +
    'whose stop() cancels it and waits for the messages in hand to be acked. channel.close() lets a channel go, and rejects ' +
    'when the broker has closed it already. A priority queue is declared with the argument "x-max-priority" (the number of ' +
    'levels); a message carries its level in the publish option priority; a queue whose spec has no maxPriority gets no argument.',
  // The hard part, on another example.
  [
    'A pool of scraper tabs, not your system: a newcomer that fails leaves nothing open, and its error goes up.',
    'const tab = await openTab();',
    'let session: Session;',
    'try { session = await logIn(tab); }',
    'catch (err) { await tab.close().catch(() => {}); throw err; }',
    'tabs.push({ tab, session });  // counted only once it works',
    '// a leaving tab: await its session.finish() first (no new page, the page in hand done), then tab.close()',
  ].join('\n'),
];
