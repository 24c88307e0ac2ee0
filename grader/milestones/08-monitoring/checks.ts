// Milestone 8: monitoring. Most checks serve the learner's layer a small fake of the management
// HTTP API (fake-management-api.ts) with numbers the check chose: rates that are not 0, depths
// that change between two calls, vhost names that need encoding, a path prefix, refusals. No waiting
// on the broker's samples, so the same code gets the same verdict every run, and the fake says what
// the layer asked for. One check reads the real API of the real broker, once its statistics show the
// state the check set up. The checks run concurrently (`concurrentChecks` in the manifest).
import type { ManagementTarget, QueueStats } from '../../../shared/layers/08-monitoring.ts';
import { ExerciseNotWrittenError } from '../../../shared/workshop/exercise.ts';
import { CannotJudgeError, type CheckContext, CheckFailure, defineChecks, expectThat } from '../../check.ts';
import { type FakeManagementApi, type FakeQueue, startFakeManagementApi, unsampled } from './fake-management-api.ts';
import { waitFor } from '../../checks/support.ts';

/**
 * With collect_statistics_interval at 1 s a sample shows within a second or two, at the default 5 s
 * within about 5; a loaded broker takes longer. Only the broker decides how long this wait is, never
 * the graded code, so a generous deadline costs a failing layer nothing.
 */
const SAMPLE_WAIT_MS = 9_000;
const CALL_LIMIT_MS = 3_000;
/** How long a call may wait for an API that never answers (the contract's bound), and the grace a busy machine gets on top. */
const GIVE_UP_MS = 5_000;
const GIVE_UP_GRACE_MS = 1_000;

const UNSAMPLED_HINT = 'A queue the broker has not sampled yet has only its name and settings: no messages_ready, no consumers, no message_stats. Each missing number is 0 (a number, not undefined), and parsing must not require them.';

type Counts = Pick<QueueStats, 'ready' | 'unacked' | 'consumers'>;
const FIELDS = ['ready', 'unacked', 'consumers', 'publishRate', 'deliverRate'] as const;

const describeCounts = (c: Partial<Counts>) => `ready ${c.ready}, unacked ${c.unacked}, consumers ${c.consumers}`;
const describeStats = (s: unknown) => {
  if (typeof s !== 'object' || s === null) return JSON.stringify(s) ?? String(s);
  const stats = s as Record<string, unknown>;
  return `{ ${['name', ...FIELDS].map((f) => `${f}: ${JSON.stringify(stats[f]) ?? 'undefined'}`).join(', ')} }`;
};
const shortList = (names: unknown[]) => (names.length === 0 ? 'nothing' : `${names.slice(0, 8).join(', ')}${names.length > 8 ? `, ... (${names.length} queues)` : ''}`);
const whyFailed = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).replace(/\s+/g, ' ');

/** A queue entry as the API answers it once the broker has sampled it. */
function sampled(name: string, counts: Counts, stats?: Record<string, unknown>): FakeQueue {
  const { ready, unacked, consumers } = counts;
  return {
    ...unsampled(name),
    messages: ready + unacked,
    messages_details: { rate: 0 },
    messages_ready: ready,
    messages_ready_details: { rate: 0 },
    messages_unacknowledged: unacked,
    messages_unacknowledged_details: { rate: 0 },
    consumers,
    consumer_utilisation: consumers > 0 ? 1 : null,
    memory: 14_000,
    ...(stats ? { message_stats: stats } : {}),
  };
}

/** A fake management API for this check, closed when it ends. */
async function fake(context: CheckContext, options?: Parameters<typeof startFakeManagementApi>[0]): Promise<FakeManagementApi> {
  const api = await startFakeManagementApi(options);
  context.onCleanup(() => api.close());
  return api;
}

/** What the fake saw that explains a failure: wrong credentials, or the paths that were not found. */
function causeSeen(api: FakeManagementApi | undefined, from: number): { seen: string; hint?: string } {
  if (!api) return { seen: '' };
  const requests = api.requests.slice(from);
  const refused = requests.find((r) => r.status === 401);
  if (refused) {
    return {
      seen: `; the API answered 401 to the credentials sent (user ${JSON.stringify(refused.user ?? null)}; the target's user is "${api.username}")`,
      hint: "Send basic auth built from the target's own username and password, on every request (not guest/guest, not credentials inside the URL).",
    };
  }
  return { seen: `; the API saw: ${api.describeRequests(from)}` };
}

/** Calls the learner's layer: an exercise not written propagates, anything else thrown becomes a failure saying what was asked and what the API saw. */
async function ask<T>(what: string, call: () => Promise<T>, api?: FakeManagementApi, hintOnThrow?: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const from = api?.requests.length ?? 0;
  const tooSlow = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckFailure(`${what} to answer within ${CALL_LIMIT_MS / 1000} s`, 'no answer: is a fetch missing its await, or a promise never resolved?')), CALL_LIMIT_MS);
  });
  try {
    return await Promise.race([Promise.resolve().then(call), tooSlow]);
  } catch (error) {
    if (error instanceof ExerciseNotWrittenError || error instanceof CheckFailure) throw error;
    const cause = causeSeen(api, from);
    throw new CheckFailure(`${what} to answer`, `it threw ${whyFailed(error)}`.slice(0, 300) + cause.seen, cause.hint ?? hintOnThrow);
  } finally {
    clearTimeout(timer);
  }
}

/** Calls the layer and returns what it threw (or fails the check if it answered). */
async function refusal(what: string, call: () => Promise<unknown>, meaning: string, zerosHint: string): Promise<string> {
  let result: unknown;
  try {
    result = await ask(what, call);
  } catch (error) {
    if (!(error instanceof CheckFailure) || !error.seen.startsWith('it threw')) throw error;
    return error.seen.replace(/^it threw /, '');
  }
  throw new CheckFailure(`${what} to reject with an error that says ${meaning}`, `it answered ${JSON.stringify(result)?.slice(0, 160)}`, zerosHint);
}

/**
 * Calls the layer against an API that never answers and says what it did within GIVE_UP_MS and the
 * grace: nothing when it rejected (it gave up), else what went wrong. It waits on a timer, not by
 * polling: a timeout of the layer's own that is due earlier fires first, however busy the machine.
 */
async function againstSilence(what: string, call: () => Promise<unknown>): Promise<string | undefined> {
  type Outcome = { state: 'pending' } | { state: 'resolved'; value: unknown } | { state: 'rejected'; error: unknown };
  let outcome: Outcome = { state: 'pending' };
  const settled = Promise.resolve()
    .then(call)
    .then(
      (value: unknown) => void (outcome = { state: 'resolved', value }),
      (error: unknown) => void (outcome = { state: 'rejected', error }),
    );
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([settled, new Promise((resolve) => (timer = setTimeout(resolve, GIVE_UP_MS + GIVE_UP_GRACE_MS)))]);
  clearTimeout(timer);
  const seen = outcome as Outcome;
  if (seen.state === 'rejected' && seen.error instanceof ExerciseNotWrittenError) throw seen.error;
  if (seen.state === 'rejected') return undefined;
  if (seen.state === 'pending') return `${what} was still waiting after ${(GIVE_UP_MS + GIVE_UP_GRACE_MS) / 1000} s`;
  return `${what} answered ${JSON.stringify(seen.value)?.slice(0, 120)}, as if the API had`;
}

/** Compares one QueueStats with what is expected, field by field, with a hint fitted to the mix-up seen. */
function expectStats(stats: QueueStats | undefined, queue: string, expected: Partial<QueueStats>, call: string, hints: (field: string, seen: unknown) => string | undefined = () => undefined): void {
  expectThat(stats?.name === queue, `${call} to report name "${queue}"`, () => describeStats(stats));
  for (const [field, value] of Object.entries(expected) as [keyof QueueStats, unknown][]) {
    const seen = stats?.[field];
    expectThat(seen === value, `${call} to report ${field} ${JSON.stringify(value)}`, () => `${describeStats(stats)}`, hints(field, seen));
  }
}

/** Hints for the count fields: which API field the number that came back was. */
function countHints(entry: { ready: number; unacked: number; consumers: number }): (field: string, seen: unknown) => string | undefined {
  return (field, seen) => {
    if (field === 'ready' && seen === entry.ready + entry.unacked) return '`messages` counts ready and unacked together; ready is `messages_ready` alone.';
    if (field === 'ready' && seen === entry.unacked) return 'That is the unacked number: ready is `messages_ready`, unacked is `messages_unacknowledged`.';
    if (field === 'unacked' && seen === entry.ready) return 'That is the ready number: unacked is `messages_unacknowledged`.';
    if (seen === undefined || Number.isNaN(seen)) return 'A number the answer does not hold counts as 0; and check the field names against the sample answer in the README.';
    return undefined;
  };
}

/** What the real API says about a queue (the real-broker check's ground truth). */
function rawQueue(context: CheckContext, queue: string): Promise<Record<string, number | undefined>> {
  return context.vhost.api.request('GET', `/queues/${encodeURIComponent(context.vhost.name)}/${encodeURIComponent(queue)}`);
}

/** The checks that compare counts read them as 08.counts does: a wrong field (ready, unacked, consumers) fails them too. */
const READS_COUNTS = ['08.counts'];

export const checks = defineChecks('monitoring', [
  {
    id: '08.counts',
    name: 'queueStats reads ready, unacked and consumers from their own fields, 0 for a queue not sampled yet',
    hint: 'Each number has a field of its own in the answer (the README shows one); a field the answer lacks counts as 0.',
    async run(context) {
      const api = await fake(context);
      const entry = { ready: 8, unacked: 4, consumers: 3 };
      api.setQueues('shop', [sampled('inventory.queue', entry, { publish: 12, publish_details: { rate: 0 } }), unsampled('new.queue')]);
      const stats = await ask('queueStats(inventory.queue)', () => context.layer.queueStats(api.target('shop'), 'inventory.queue'), api);
      expectStats(stats, 'inventory.queue', entry, 'queueStats for a queue with 8 ready and 4 unacked messages (12 in all) and 3 consumers', countHints(entry));
      const fresh = await ask('queueStats(new.queue), a queue the broker has not sampled yet', () => context.layer.queueStats(api.target('shop'), 'new.queue'), api, UNSAMPLED_HINT);
      expectStats(fresh, 'new.queue', { ready: 0, unacked: 0, consumers: 0, publishRate: 0, deliverRate: 0 }, 'queueStats for a queue the broker has not sampled yet (only its name and settings)', () => UNSAMPLED_HINT);
    },
  },
  {
    id: '08.fresh',
    name: 'every call asks the API again: numbers that changed between two calls show up',
    hint: 'The broker already samples; a cache in your layer adds a lag of its own and shows a depth that is gone. Ask the API on every call.',
    after: READS_COUNTS,
    async run(context) {
      const api = await fake(context);
      const target = api.target('shop');
      const states: Counts[] = [
        { ready: 40, unacked: 0, consumers: 1 },
        { ready: 41, unacked: 3, consumers: 2 },
        { ready: 2, unacked: 5, consumers: 4 },
        { ready: 0, unacked: 1, consumers: 1 },
      ];
      const calls: ['queueStats' | 'listQueueStats', number][] = [['queueStats', 0], ['queueStats', 1], ['listQueueStats', 1], ['listQueueStats', 2], ['queueStats', 3]];
      const history: string[] = [];
      for (const [call, state] of calls) {
        const counts = states[state] as Counts;
        api.setQueues('shop', [sampled('inventory.queue', counts)]);
        const before = api.requests.length;
        const answer =
          call === 'queueStats'
            ? await ask('queueStats(inventory.queue)', () => context.layer.queueStats(target, 'inventory.queue'), api)
            : (await ask('listQueueStats()', () => context.layer.listQueueStats(target), api))?.find?.((s) => s?.name === 'inventory.queue');
        const asked = api.requests.length - before;
        history.push(`${call} → ${answer ? describeCounts(answer) : 'no inventory.queue'}`);
        const matches = answer?.ready === counts.ready && answer.unacked === counts.unacked && answer.consumers === counts.consumers;
        expectThat(
          matches,
          `${call} after the depth changed to ${describeCounts(counts)} to report it`,
          () => `${history.join('; ')}${asked === 0 ? `: the last call sent no request to the API at all, so it answered from a cache` : ''}`,
          asked === 0 ? 'Your layer answered from a cache: the broker already samples its numbers, so ask the API on every call.' : undefined,
        );
      }
    },
  },
  {
    id: '08.rates',
    name: "publishRate and deliverRate are the API's sampled rates (publish_details and deliver_get_details), 0 when there are none",
    hint: 'A rate is the `rate` inside a `*_details` object of message_stats; the bare numbers next to them are counts. No message_stats: 0.',
    async run(context) {
      const api = await fake(context);
      const busy = { ready: 80, unacked: 0, consumers: 1 };
      api.setQueues('shop', [
        sampled('audit.queue', busy, {
          publish: 120,
          publish_details: { rate: 2.4 },
          deliver_get: 40,
          deliver_get_details: { rate: 0.8 },
          deliver: 30,
          deliver_details: { rate: 0.6 },
          get: 10,
          get_details: { rate: 0.2 },
          ack: 28,
          ack_details: { rate: 0.5 },
          redeliver: 0,
          redeliver_details: { rate: 0 },
        }),
        sampled('quiet.queue', { ready: 5, unacked: 0, consumers: 0 }, { publish: 5, publish_details: { rate: 0 } }),
        unsampled('fresh.queue'),
      ]);
      const target = api.target('shop');
      const rateHint = (field: string, seen: unknown) => {
        if (seen === 120 || seen === 40 || seen === 5) return 'That is a count (message_stats.publish or deliver_get): the rate is the `rate` of publish_details or deliver_get_details.';
        if (seen === 0.6) return 'deliver_details counts consumer deliveries only; deliverRate is deliver_get_details, which adds basic.get.';
        if (field === 'publishRate' && seen === 0.8) return 'publishRate and deliverRate are swapped.';
        if (seen === 0) return 'The broker sampled this queue: its rates are in message_stats, not 0.';
        if (seen === undefined || Number.isNaN(seen)) return 'A rate the answer does not hold is 0, a number.';
        return undefined;
      };
      const audit = await ask('queueStats(audit.queue)', () => context.layer.queueStats(target, 'audit.queue'), api);
      expectStats(audit, 'audit.queue', { publishRate: 2.4, deliverRate: 0.8 }, 'queueStats for a queue published to at 2.4/s and delivered from at 0.8/s (0.6 to consumers, 0.2 by basic.get)', rateHint);
      const quiet = await ask('queueStats(quiet.queue)', () => context.layer.queueStats(target, 'quiet.queue'), api);
      expectStats(quiet, 'quiet.queue', { publishRate: 0, deliverRate: 0 }, 'queueStats for a queue with a publish rate of 0 and no deliveries ever (no deliver_get_details)', rateHint);
      const fresh = await ask('queueStats(fresh.queue), a queue with no message_stats yet', () => context.layer.queueStats(target, 'fresh.queue'), api, UNSAMPLED_HINT);
      expectStats(fresh, 'fresh.queue', { publishRate: 0, deliverRate: 0 }, 'queueStats for a queue with no message_stats yet', rateHint);
      const listed = await ask('listQueueStats() (fresh.queue is not sampled yet)', () => context.layer.listQueueStats(target), api, UNSAMPLED_HINT);
      const inList = Array.isArray(listed) ? listed.find((s) => s?.name === 'audit.queue') : undefined;
      expectStats(inList, 'audit.queue', { publishRate: 2.4, deliverRate: 0.8 }, "listQueueStats' entry for audit.queue", rateHint);
    },
  },
  {
    id: '08.list',
    name: 'listQueueStats lists every queue of the vhost, and only those, sorted by name',
    hint: "GET the queues of the target's vhost (the path without a vhost lists every vhost), map each entry as queueStats does, then sort by name.",
    after: READS_COUNTS,
    async run(context) {
      const api = await fake(context);
      const depths: Record<string, Counts> = {
        'zeta.queue': { ready: 3, unacked: 0, consumers: 0 },
        'alpha.queue': { ready: 1, unacked: 2, consumers: 1 },
        'mid.queue': { ready: 7, unacked: 0, consumers: 2 },
      };
      api.setQueues('shop', [...Object.entries(depths).map(([name, counts]) => sampled(name, counts)), unsampled('beta.queue')]); // the API's order is not sorted
      api.setQueues('shop-neighbour', [sampled('neighbour.queue', { ready: 9, unacked: 0, consumers: 0 })]);
      api.setQueues('empty', []);
      const from = api.requests.length;
      const listed = await ask('listQueueStats() (beta.queue is not sampled yet)', () => context.layer.listQueueStats(api.target('shop')), api, UNSAMPLED_HINT);
      expectThat(Array.isArray(listed), 'listQueueStats to return an array', () => JSON.stringify(listed)?.slice(0, 120) ?? String(listed));
      const names = listed.map((stats) => stats?.name);
      const expected = ['alpha.queue', 'beta.queue', 'mid.queue', 'zeta.queue'];
      const allVhosts = api.requests.slice(from).some((r) => /\/api\/queues\/?$/.test(r.rawPath));
      expectThat(
        names.join() === expected.join(),
        `listQueueStats to list ${expected.join(', ')} in that order (the vhost's queues, sorted by name; the API answers them unsorted)`,
        () => `${shortList(names)}${names.includes('neighbour.queue') ? ` (neighbour.queue is in the vhost shop-neighbour${allVhosts ? ': you asked for the queues of every vhost' : ''})` : ''}`,
        names.includes('neighbour.queue') ? "Ask for the queues of the target's vhost only: the path without a vhost answers every vhost's." : names.length === expected.length && !names.includes('neighbour.queue') ? 'Sort by name before you return the list.' : undefined,
      );
      for (const [name, counts] of Object.entries({ ...depths, 'beta.queue': { ready: 0, unacked: 0, consumers: 0 } })) {
        expectStats(listed.find((s) => s?.name === name), name, counts, `listQueueStats' entry for ${name}`, countHints(counts));
      }
      const empty = await ask('listQueueStats() on a vhost with no queues', () => context.layer.listQueueStats(api.target('empty')), api);
      expectThat(Array.isArray(empty) && empty.length === 0, 'listQueueStats on a vhost with no queues to answer []', () => JSON.stringify(empty)?.slice(0, 120) ?? String(empty));
    },
  },
  {
    id: '08.vhost-name',
    name: 'vhost and queue names that need encoding in a URL work: "/", "eu/shop/v2", spaces, "#" and non-ASCII letters',
    hint: 'Each name is one segment of the URL path: encode it as a whole ("/" becomes %2F, "#" %23, a space %20), the vhost and the queue name alike.',
    after: READS_COUNTS,
    async run(context) {
      const api = await fake(context);
      const cases = [
        { vhost: '/', queue: 'order.queue', ready: 2 },
        { vhost: 'eu/shop/v2', queue: 'retry/orders', ready: 5 },
        { vhost: 'café zürich', queue: 'commandes #1', ready: 7 },
      ];
      for (const { vhost, queue, ready } of cases) api.setQueues(vhost, [sampled(queue, { ready, unacked: 0, consumers: 1 })]);
      for (const { vhost, queue, ready } of cases) {
        const from = api.requests.length;
        const asked = `queueStats(${JSON.stringify(queue)}) on the vhost ${JSON.stringify(vhost)}`;
        const stats = await ask(asked, () => context.layer.queueStats(api.target(vhost), queue), api);
        expectStats(stats, queue, { ready }, asked, () => `The API saw: ${api.describeRequests(from)}. Encode each name as one path segment.`);
        const listFrom = api.requests.length;
        const listed = await ask(`listQueueStats() on the vhost ${JSON.stringify(vhost)}`, () => context.layer.listQueueStats(api.target(vhost)), api);
        const names = Array.isArray(listed) ? listed.map((s) => s?.name) : [];
        expectThat(names.join() === queue, `listQueueStats on the vhost ${JSON.stringify(vhost)} to list ${JSON.stringify(queue)}`, () => `${shortList(names)}; the API saw: ${api.describeRequests(listFrom)}`);
      }
    },
  },
  {
    id: '08.base-url',
    name: "the API is at baseUrl + /api, with or without a trailing slash, under a path prefix too, with the target's credentials",
    hint: 'Join baseUrl and "/api/..." as strings, after removing one trailing slash; a URL resolved against baseUrl drops its path. Basic auth from the target.',
    after: READS_COUNTS,
    async run(context) {
      const api = await fake(context, { prefix: '/rabbitmq', username: 'ops-monitor', password: 'pa55:word' });
      api.setQueues('shop', [sampled('order.queue', { ready: 6, unacked: 1, consumers: 2 })]);
      for (const baseUrl of [api.baseUrl, `${api.baseUrl}/`]) {
        const target = api.target('shop', { baseUrl });
        const from = api.requests.length;
        const hint = () => {
          const paths = api.requests.slice(from).map((r) => r.rawPath);
          if (paths.some((p) => p.includes('//api'))) return 'A trailing slash on baseUrl gave "//api": remove it before adding "/api".';
          if (paths.some((p) => p.startsWith('/api/'))) return 'The path prefix of baseUrl (/rabbitmq) was lost: new URL(path, baseUrl) with an absolute path drops it. Join the strings.';
          return undefined;
        };
        const explained = (error: unknown): never => {
          throw error instanceof CheckFailure && !error.hint ? new CheckFailure(error.expected, error.seen, hint()) : error;
        };
        const stats = await ask(`queueStats with baseUrl ${baseUrl}`, () => context.layer.queueStats(target, 'order.queue'), api).catch(explained);
        expectStats(stats, 'order.queue', { ready: 6, unacked: 1, consumers: 2 }, `queueStats with baseUrl ${baseUrl}`);
        const listed = await ask(`listQueueStats with baseUrl ${baseUrl}`, () => context.layer.listQueueStats(target), api).catch(explained);
        const names = Array.isArray(listed) ? listed.map((s) => s?.name) : [];
        expectThat(names.join() === 'order.queue', `listQueueStats with baseUrl ${baseUrl} to list order.queue`, () => `${shortList(names)}; the API saw: ${api.describeRequests(from)}`);
      }
    },
  },
  {
    id: '08.refusals',
    name: 'when the management API refuses (unknown queue or vhost, wrong password), the error says so',
    hint: "Look at the status before the body: throw an Error naming the status (404, 401) and what was asked. Don't answer zeros: a queue that does not exist is not an empty queue.",
    // An API that never answers is waited for up to GIVE_UP_MS and the grace, alongside the refusals.
    timeoutMs: GIVE_UP_MS + GIVE_UP_GRACE_MS + 1500,
    async run(context) {
      const api = await fake(context);
      api.setQueues('shop', [sampled('order.queue', { ready: 1, unacked: 0, consumers: 0 })]);
      api.silence('hung');
      const silent = [
        againstSilence("queueStats('order.queue')", () => context.layer.queueStats(api.target('hung'), 'order.queue')),
        againstSilence('listQueueStats()', () => context.layer.listQueueStats(api.target('hung'))),
      ];
      for (const call of silent) call.catch(() => {}); // awaited below, unless a refusal fails the check first
      const zeros = 'A refusal must reject: answering zeros or [] makes a typo in a name look like an empty, healthy queue.';
      const clear = (what: string, error: string, says: RegExp, meaning: string) =>
        expectThat(says.test(error), `${what} to reject with an error that says ${meaning}`, `an error that does not: ${error.slice(0, 200)}`, 'Check response.ok (or the status) before parsing the body, and put the status in the error you throw.');
      const missing = "queueStats('no-such.queue')";
      clear(missing, await refusal(missing, () => context.layer.queueStats(api.target('shop'), 'no-such.queue'), 'the queue was not found (404)', zeros), /404|not.?found/i, 'the queue was not found (404)');
      const noVhost = "listQueueStats() on a vhost that does not exist";
      clear(noVhost, await refusal(noVhost, () => context.layer.listQueueStats(api.target('no-such-vhost')), 'it was not found (404)', zeros), /404|not.?found/i, 'it was not found (404)');
      const wrong = 'queueStats(order.queue) with a wrong password';
      clear(wrong, await refusal(wrong, () => context.layer.queueStats(api.target('shop', { password: 'not-the-password' }), 'order.queue'), 'it was not authorised (401)', zeros), /401|unauthori[sz]ed|not.?authori[sz]ed|login|credentials|password/i, 'it was not authorised (401)');

      const hung = (await Promise.all(silent)).filter((wrongly): wrongly is string => wrongly !== undefined);
      expectThat(
        hung.length === 0,
        `queueStats and listQueueStats to give up within ${GIVE_UP_MS / 1000} s and reject when the API never answers`,
        () => hung.join('; '),
        'A request that gets no answer waits as long as the server keeps the connection open: give each request a deadline of its own.',
      );
    },
  },
  {
    id: '08.real-broker',
    name: "on the real broker, queueStats and listQueueStats give the counts the broker's own statistics show",
    hint: 'The real API answers the same fields as the sample in the README; compare your URL and fields with what `curl -u guest:guest localhost:15672/api/queues/%2F` shows.',
    after: READS_COUNTS,
    timeoutMs: 12_000,
    async run(context) {
      const { layer, vhost } = context;
      const target: ManagementTarget = vhost.management;
      const connection = await context.connect();
      const channel = await connection.createConfirmChannel();
      await channel.assertQueue('payment.queue', { durable: false });
      await channel.assertQueue('empty.queue', { durable: false });
      for (let i = 0; i < 7; i++) channel.sendToQueue('payment.queue', Buffer.from(`charge ${i + 1}`));
      await channel.waitForConfirms();
      // Two consumers on channels of their own that take 2 and 1 and never ack: 4 ready, 3 unacked.
      for (const prefetch of [2, 1]) {
        const holder = await connection.createChannel();
        await holder.prefetch(prefetch);
        await holder.consume('payment.queue', () => {}, { noAck: false });
      }
      // A layer not written yet fails at once, not after the wait.
      await layer.queueStats(target, 'payment.queue').catch((error: unknown) => {
        if (error instanceof ExerciseNotWrittenError) throw error;
      });
      const expected: Counts = { ready: 4, unacked: 3, consumers: 2 };
      let last: Record<string, number | undefined> = {};
      // This wait is the broker's, not the layer's: a sample that never comes is "could not check".
      await waitFor(
        async () => {
          last = await rawQueue(context, 'payment.queue');
          return last.messages_ready === expected.ready && last.messages_unacknowledged === expected.unacked && last.consumers === expected.consumers ? true : undefined;
        },
        `the broker's own statistics for payment.queue to show ${describeCounts(expected)} (this wait is the broker's, not your layer's)`,
        () => `after ${SAMPLE_WAIT_MS / 1000} s they still show ${describeCounts({ ready: last.messages_ready, unacked: last.messages_unacknowledged, consumers: last.consumers })} (collect_statistics_interval may be long)`,
        SAMPLE_WAIT_MS,
      ).catch((error: unknown) => {
        throw error instanceof CheckFailure ? new CannotJudgeError(`the broker's statistics never showed what the check set up: ${error.message}`) : error;
      });
      const stats = await ask('queueStats(payment.queue)', () => layer.queueStats(target, 'payment.queue'));
      const hints = countHints(expected);
      expectStats(stats, 'payment.queue', expected, 'queueStats for 7 messages, 3 of them held unacked by 2 consumers', hints);
      for (const field of ['publishRate', 'deliverRate'] as const) {
        expectThat(typeof stats[field] === 'number' && Number.isFinite(stats[field]) && stats[field] >= 0, `${field} to be a number of messages per second`, () => describeStats(stats));
      }
      const listed = await ask('listQueueStats()', () => layer.listQueueStats(target));
      const names = Array.isArray(listed) ? listed.map((s) => s?.name) : [];
      expectThat(names.join() === 'empty.queue,payment.queue', "listQueueStats to list the vhost's empty.queue and payment.queue, in that order", () => shortList(names));
      expectStats(listed.find((s) => s?.name === 'payment.queue'), 'payment.queue', expected, "listQueueStats' entry for payment.queue", hints);
      expectStats(listed.find((s) => s?.name === 'empty.queue'), 'empty.queue', { ready: 0, unacked: 0, consumers: 0 }, "listQueueStats' entry for empty.queue", hints);
    },
  },
]);
