// Milestone 8's checks on what the layer asks the API for: the vhost's queues and only those,
// names encoded as path segments, and the API found under baseUrl with the target's credentials.
import { type Check, CheckFailure, expectThat } from '../../check.ts';
import type { FakeManagementApi } from './fake-management-api.ts';
import { unsampled } from './fake-management-api.ts';
import { READS_COUNTS } from './field-checks.ts';
import { ask, countHints, type Counts, expectStats, fake, sampled, shortList, UNSAMPLED_HINT } from './layer-calls.ts';

/** What listQueueStats listed instead, and a hint for it: queues of another vhost, or the right ones unsorted. */
function listMixUp(names: unknown[], expectedCount: number, askedEveryVhost: boolean): { seen: string; hint?: string } {
  if (!names.includes('neighbour.queue')) {
    return { seen: shortList(names), hint: names.length === expectedCount ? 'Sort by name before you return the list.' : undefined };
  }
  const everyVhost = askedEveryVhost ? ': you asked for the queues of every vhost' : '';
  return {
    seen: `${shortList(names)} (neighbour.queue is in the vhost shop-neighbour${everyVhost})`,
    hint: "Ask for the queues of the target's vhost only: the path without a vhost answers every vhost's.",
  };
}

/** Three sampled queues and one not sampled in shop, in an unsorted order; a neighbour vhost; an empty one. */
function setListQueues(api: FakeManagementApi): Record<string, Counts> {
  const depths: Record<string, Counts> = {
    'zeta.queue': { ready: 3, unacked: 0, consumers: 0 },
    'alpha.queue': { ready: 1, unacked: 2, consumers: 1 },
    'mid.queue': { ready: 7, unacked: 0, consumers: 2 },
  };
  api.setQueues('shop', [...Object.entries(depths).map(([name, counts]) => sampled(name, counts)), unsampled('beta.queue')]); // the API's order is not sorted
  api.setQueues('shop-neighbour', [sampled('neighbour.queue', { ready: 9, unacked: 0, consumers: 0 })]);
  api.setQueues('empty', []);
  return depths;
}

export const list: Check<'monitoring'> = {
  id: '08.list',
  name: 'listQueueStats lists every queue of the vhost, and only those, sorted by name',
  hint: "GET the queues of the target's vhost (the path without a vhost lists every vhost), map each entry as queueStats does, then sort by name.",
  after: READS_COUNTS,
  async run(context) {
    const api = await fake(context);
    const depths = setListQueues(api);
    const from = api.requests.length;
    const listed = await ask(
      'listQueueStats() (beta.queue is not sampled yet)',
      () => context.layer.listQueueStats(api.target('shop')),
      api,
      UNSAMPLED_HINT,
    );
    expectThat(Array.isArray(listed), 'listQueueStats to return an array', () => JSON.stringify(listed)?.slice(0, 120) ?? String(listed));
    const names = listed.map((stats) => stats?.name);
    const expected = ['alpha.queue', 'beta.queue', 'mid.queue', 'zeta.queue'];
    const allVhosts = api.requests.slice(from).some((r) => /\/api\/queues\/?$/.test(r.rawPath));
    const mixUp = listMixUp(names, expected.length, allVhosts);
    expectThat(
      names.join() === expected.join(),
      `listQueueStats to list ${expected.join(', ')} in that order (the vhost's queues, sorted by name; the API answers them unsorted)`,
      () => mixUp.seen,
      mixUp.hint,
    );
    for (const [name, counts] of Object.entries({ ...depths, 'beta.queue': { ready: 0, unacked: 0, consumers: 0 } })) {
      expectStats(
        listed.find((s) => s?.name === name),
        name,
        counts,
        `listQueueStats' entry for ${name}`,
        countHints(counts),
      );
    }
    const empty = await ask('listQueueStats() on a vhost with no queues', () => context.layer.listQueueStats(api.target('empty')), api);
    expectThat(
      Array.isArray(empty) && empty.length === 0,
      'listQueueStats on a vhost with no queues to answer []',
      () => JSON.stringify(empty)?.slice(0, 120) ?? String(empty),
    );
  },
};

export const vhostName: Check<'monitoring'> = {
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
      expectStats(
        stats,
        queue,
        { ready },
        asked,
        () => `The API saw: ${api.describeRequests(from)}. Encode each name as one path segment.`,
      );
      const listFrom = api.requests.length;
      const listed = await ask(
        `listQueueStats() on the vhost ${JSON.stringify(vhost)}`,
        () => context.layer.listQueueStats(api.target(vhost)),
        api,
      );
      const names = Array.isArray(listed) ? listed.map((s) => s?.name) : [];
      expectThat(
        names.join() === queue,
        `listQueueStats on the vhost ${JSON.stringify(vhost)} to list ${JSON.stringify(queue)}`,
        () => `${shortList(names)}; the API saw: ${api.describeRequests(listFrom)}`,
      );
    }
  },
};

/** A CheckFailure without a hint of its own gets one from the paths the API saw since `from`: a doubled slash, or a lost prefix. */
function explainedByPaths(api: FakeManagementApi, from: number) {
  const hint = () => {
    const paths = api.requests.slice(from).map((r) => r.rawPath);
    if (paths.some((p) => p.includes('//api'))) return 'A trailing slash on baseUrl gave "//api": remove it before adding "/api".';
    if (paths.some((p) => p.startsWith('/api/')))
      return 'The path prefix of baseUrl (/rabbitmq) was lost: new URL(path, baseUrl) with an absolute path drops it. Join the strings.';
    return undefined;
  };
  return (error: unknown): never => {
    throw error instanceof CheckFailure && !error.hint ? new CheckFailure(error.expected, error.seen, hint()) : error;
  };
}

export const baseUrl: Check<'monitoring'> = {
  id: '08.base-url',
  name: "the API is at baseUrl + /api, with or without a trailing slash, under a path prefix too, with the target's credentials",
  hint: 'Join baseUrl and "/api/..." as strings, after removing one trailing slash; a URL resolved against baseUrl drops its path. Basic auth from the target.',
  after: READS_COUNTS,
  async run(context) {
    const api = await fake(context, { prefix: '/rabbitmq', username: 'ops-monitor', password: 'pa55:word' });
    api.setQueues('shop', [sampled('order.queue', { ready: 6, unacked: 1, consumers: 2 })]);
    for (const url of [api.baseUrl, `${api.baseUrl}/`]) {
      const target = api.target('shop', { baseUrl: url });
      const from = api.requests.length;
      const explained = explainedByPaths(api, from);
      const stats = await ask(`queueStats with baseUrl ${url}`, () => context.layer.queueStats(target, 'order.queue'), api).catch(
        explained,
      );
      expectStats(stats, 'order.queue', { ready: 6, unacked: 1, consumers: 2 }, `queueStats with baseUrl ${url}`);
      const listed = await ask(`listQueueStats with baseUrl ${url}`, () => context.layer.listQueueStats(target), api).catch(explained);
      const names = Array.isArray(listed) ? listed.map((s) => s?.name) : [];
      expectThat(
        names.join() === 'order.queue',
        `listQueueStats with baseUrl ${url} to list order.queue`,
        () => `${shortList(names)}; the API saw: ${api.describeRequests(from)}`,
      );
    }
  },
};
