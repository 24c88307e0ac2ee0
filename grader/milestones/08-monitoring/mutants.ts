// Known-wrong monitoring layers for milestone 8 (the fields people misread, the URLs they build
// wrong, the refusals they swallow, the caches they add), and known-valid ones built another way.
import { z } from 'zod';
import type { ManagementTarget, MonitoringLayer, QueueStats } from '../../../shared/layers/08-monitoring.ts';
import { monitoring as reference } from '../../../solutions/layers/08-monitoring.ts';
import { defineAlternatives, defineMutants } from '../../mutant.ts';

interface RawQueue {
  name: string;
  messages?: number;
  messages_ready?: number;
  messages_unacknowledged?: number;
  consumers?: number;
  message_stats?: {
    publish?: number;
    publish_details?: { rate: number };
    deliver_get_details?: { rate: number };
    deliver_details?: { rate: number };
  };
}

interface Mistakes {
  /** How the vhost and the queue name go into the path. */
  encodeVhost?: (vhost: string) => string;
  encodeQueue?: (queue: string) => string;
  /** The list's path. */
  listPath?: (encodedVhost: string) => string;
  /** How the URL is built from baseUrl and the path. */
  url?: (baseUrl: string, path: string) => string;
  /** Which credentials go into the header. */
  credentials?: (target: ManagementTarget) => string;
  /** Parse the body before looking at the status. */
  ignoreStatus?: boolean;
  /** The error thrown for a refusal. */
  refusal?: (status: number, path: string) => Error;
  /** The list's order. */
  sort?: (a: QueueStats, b: QueueStats) => number;
  /** How long a request may wait for an answer (undefined: for ever), by path. */
  timeoutMs?: (path: string) => number | undefined;
  /** What a request that timed out becomes instead of an error. */
  onTimeout?: (path: string) => unknown;
}

const GIVE_UP_MS = 5_000;

const referenceUrl = (baseUrl: string, path: string) => `${baseUrl.replace(/\/$/, '')}/api${path}`;

async function get(target: ManagementTarget, path: string, mistakes: Mistakes): Promise<unknown> {
  const credentials = mistakes.credentials?.(target) ?? `${target.username}:${target.password}`;
  const url = (mistakes.url ?? referenceUrl)(target.baseUrl, path);
  const timeoutMs = mistakes.timeoutMs ? mistakes.timeoutMs(path) : GIVE_UP_MS;
  const signal = timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs);
  let response: Response;
  try {
    response = await fetch(url, { headers: { authorization: `Basic ${Buffer.from(credentials).toString('base64')}` }, signal });
  } catch (error) {
    if (mistakes.onTimeout && error instanceof Error && error.name === 'TimeoutError') return mistakes.onTimeout(path);
    throw error;
  }
  if (!mistakes.ignoreStatus && !response.ok) throw mistakes.refusal?.(response.status, path) ?? new Error(`management API GET ${path} answered ${response.status}`);
  return response.json();
}

const referenceStats = (info: RawQueue): QueueStats => ({
  name: info.name,
  ready: info.messages_ready ?? 0,
  unacked: info.messages_unacknowledged ?? 0,
  consumers: info.consumers ?? 0,
  publishRate: info.message_stats?.publish_details?.rate ?? 0,
  deliverRate: info.message_stats?.deliver_get_details?.rate ?? 0,
});

/** A layer built from a raw GET and a mapping: the URL, the mapping and the error path are where the mistakes are. */
function reading(toStats: (info: RawQueue) => QueueStats = referenceStats, mistakes: Mistakes = {}): MonitoringLayer {
  const vhostOf = (target: ManagementTarget) => (mistakes.encodeVhost ?? encodeURIComponent)(target.vhost);
  return {
    async queueStats(target, queue) {
      const info = (await get(target, `/queues/${vhostOf(target)}/${(mistakes.encodeQueue ?? encodeURIComponent)(queue)}`, mistakes)) as RawQueue;
      if (typeof info?.name !== 'string') throw new TypeError("Cannot read properties of undefined (reading 'name')");
      return toStats(info);
    },
    async listQueueStats(target) {
      const path = mistakes.listPath?.(vhostOf(target)) ?? `/queues/${vhostOf(target)}`;
      const queues = (await get(target, path, mistakes)) as RawQueue[];
      if (!Array.isArray(queues)) throw new TypeError('queues.map is not a function');
      return queues.map(toStats).sort(mistakes.sort ?? ((a, b) => (a.name < b.name ? -1 : 1)));
    },
  };
}

/** Answers from a cache: forever, or for ttlMs ("the broker samples every 5 s anyway"). */
function cached(layer: MonitoringLayer, ttlMs = Infinity): MonitoringLayer {
  const cache = new Map<string, { at: number; value: Promise<unknown> }>();
  const remember = <T>(key: string, load: () => Promise<T>): Promise<T> => {
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < ttlMs) return hit.value as Promise<T>;
    const value = load();
    cache.set(key, { at: Date.now(), value });
    value.catch(() => cache.delete(key));
    return value;
  };
  const key = (target: ManagementTarget) => `${target.baseUrl} ${target.username} ${target.password} ${target.vhost}`;
  return {
    queueStats: (target, queue) => remember(`${key(target)} ${queue}`, () => layer.queueStats(target, queue)),
    listQueueStats: (target) => remember(key(target), () => layer.listQueueStats(target)),
  };
}

const zeros = (queue: string): QueueStats => ({ name: queue, ready: 0, unacked: 0, consumers: 0, publishRate: 0, deliverRate: 0 });

export const mutants = defineMutants('monitoring', [
  {
    name: 'ready and unacked swapped',
    breaks: ['08.counts', '08.real-broker'],
    layer: reading((info) => ({ ...referenceStats(info), ready: info.messages_unacknowledged ?? 0, unacked: info.messages_ready ?? 0 })),
  },
  {
    name: 'ready read from messages (which counts ready and unacked together)',
    breaks: ['08.counts', '08.real-broker', '08.list'],
    layer: reading((info) => ({ ...referenceStats(info), ready: info.messages ?? 0 })),
  },
  {
    name: 'missing numbers passed on as undefined (no default of 0)',
    breaks: ['08.counts', '08.rates'],
    layer: reading((info) => ({
      name: info.name,
      ready: info.messages_ready as number,
      unacked: info.messages_unacknowledged as number,
      consumers: info.consumers as number,
      publishRate: info.message_stats?.publish_details?.rate as number,
      deliverRate: info.message_stats?.deliver_get_details?.rate as number,
    })),
  },
  {
    name: 'a zod schema that requires messages_ready: a queue not sampled yet fails to parse',
    breaks: ['08.counts', '08.list', '08.rates'],
    layer: reading((info) => referenceStats(z.object({ name: z.string(), messages_ready: z.number() }).passthrough().parse(info) as RawQueue)),
  },
  {
    name: 'listQueueStats answers from a cache kept forever (queueStats asks every time)',
    breaks: ['08.fresh'],
    layer: { ...reference, listQueueStats: cached(reference).listQueueStats },
  },
  {
    name: 'answers from a cache kept 5 s, "since the broker samples every 5 s anyway"',
    breaks: ['08.fresh'],
    layer: cached(reference, 5000),
  },
  {
    name: 'rates hard-coded to 0',
    breaks: ['08.rates'],
    layer: reading((info) => ({ ...referenceStats(info), publishRate: 0, deliverRate: 0 })),
  },
  {
    name: 'publishRate read from message_stats.publish (a count, not a rate)',
    breaks: ['08.rates'],
    layer: reading((info) => ({ ...referenceStats(info), publishRate: info.message_stats?.publish ?? 0 })),
  },
  {
    name: 'deliverRate read from deliver_details (consumer deliveries only, no basic.get)',
    breaks: ['08.rates'],
    layer: reading((info) => ({ ...referenceStats(info), deliverRate: info.message_stats?.deliver_details?.rate ?? 0 })),
  },
  {
    name: 'lists GET /api/queues: the queues of every vhost',
    breaks: ['08.list'],
    layer: reading(referenceStats, { listPath: () => '/queues' }),
  },
  {
    name: 'the list left in the order the API answers',
    breaks: ['08.list'],
    layer: reading(referenceStats, { sort: () => 0 }),
  },
  {
    name: 'the vhost goes into the URL unencoded',
    breaks: ['08.vhost-name'],
    layer: reading(referenceStats, { encodeVhost: (vhost) => vhost }),
  },
  {
    name: 'names encoded with encodeURI, which leaves "/" and "#" alone',
    breaks: ['08.vhost-name'],
    layer: reading(referenceStats, { encodeVhost: encodeURI, encodeQueue: encodeURI }),
  },
  {
    name: 'the queue name goes into the URL unencoded',
    breaks: ['08.vhost-name'],
    layer: reading(referenceStats, { encodeQueue: (queue) => queue }),
  },
  {
    name: 'baseUrl and /api joined without removing a trailing slash',
    breaks: ['08.base-url'],
    layer: reading(referenceStats, { url: (baseUrl, path) => `${baseUrl}/api${path}` }),
  },
  {
    name: "new URL('/api/...', baseUrl): an absolute path drops baseUrl's path prefix",
    breaks: ['08.base-url'],
    layer: reading(referenceStats, { url: (baseUrl, path) => new URL(`/api${path}`, baseUrl).href }),
  },
  {
    name: 'the credentials hard-coded to guest:guest',
    breaks: ['08.base-url', '08.counts', '08.list'],
    layer: reading(referenceStats, { credentials: () => 'guest:guest' }),
  },
  {
    name: 'answers zeros (or no queues) when the API says 404 or 401',
    breaks: ['08.refusals'],
    layer: {
      queueStats: (target, queue) => reference.queueStats(target, queue).catch(() => zeros(queue)),
      listQueueStats: (target) => reference.listQueueStats(target).catch(() => []),
    },
  },
  {
    name: 'parses the body without checking the status: the error is a parsing error',
    breaks: ['08.refusals'],
    layer: reading(referenceStats, { ignoreStatus: true }),
  },
  {
    name: 'a refusal becomes an error that says neither the status nor what went wrong',
    breaks: ['08.refusals'],
    layer: reading(referenceStats, { refusal: () => new Error('management API request failed') }),
  },
  {
    name: 'fetch without a deadline: an API that never answers keeps the caller waiting for ever',
    breaks: ['08.refusals'],
    layer: reading(referenceStats, { timeoutMs: () => undefined }),
  },
  {
    name: 'a deadline on the single-queue request only: listQueueStats waits for ever',
    breaks: ['08.refusals'],
    layer: reading(referenceStats, { timeoutMs: (path) => (path.split('/').length > 3 ? GIVE_UP_MS : undefined) }),
  },
  {
    name: 'a generous 30 s deadline, "the API is slow under load"',
    breaks: ['08.refusals'],
    layer: reading(referenceStats, { timeoutMs: () => 30_000 }),
  },
  {
    name: 'a request that timed out answers zeros (or no queues), "so the dashboard shows something"',
    breaks: ['08.refusals'],
    layer: reading(referenceStats, { onTimeout: (path) => (path.split('/').length > 3 ? { name: decodeURIComponent(path.split('/')[3] ?? '') } : []) }),
  },
]);

// Known-valid: other URL joining, no zod, another sort, queueStats found in the list.
const Entry = z.object({
  name: z.string(),
  messages_ready: z.number().default(0),
  messages_unacknowledged: z.number().default(0),
  consumers: z.number().default(0),
  message_stats: z
    .object({ publish_details: z.object({ rate: z.number() }).optional(), deliver_get_details: z.object({ rate: z.number() }).optional() })
    .default({}),
});

class ManagementRefusal extends Error {
  constructor(readonly status: number, what: string) {
    super(`${what}: HTTP ${status} ${status === 404 ? 'Not Found' : status === 401 ? 'Unauthorized' : ''}`.trim());
  }
}

async function getJson(target: ManagementTarget, segments: string[], query = ''): Promise<unknown> {
  const root = target.baseUrl.endsWith('/') ? target.baseUrl : `${target.baseUrl}/`;
  const url = new URL(`api/${segments.map(encodeURIComponent).join('/')}${query}`, root);
  const headers = new Headers({ Authorization: `Basic ${Buffer.from(`${target.username}:${target.password}`, 'utf8').toString('base64')}` });
  // A deadline of its own: an AbortController aborted by a timer, cleared once the answer is in.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`GET ${url.pathname}: no answer within 4 s`)), 4_000);
  let text: string;
  let response: Response;
  try {
    response = await fetch(url, { headers, signal: controller.signal });
    text = await response.text();
  } finally {
    clearTimeout(timer);
  }
  if (response.status !== 200) throw new ManagementRefusal(response.status, `GET ${url.pathname}`);
  return JSON.parse(text);
}

const fromEntry = (raw: unknown): QueueStats => {
  const e = Entry.parse(raw);
  return {
    name: e.name,
    ready: e.messages_ready,
    unacked: e.messages_unacknowledged,
    consumers: e.consumers,
    publishRate: e.message_stats.publish_details?.rate ?? 0,
    deliverRate: e.message_stats.deliver_get_details?.rate ?? 0,
  };
};

const listed: MonitoringLayer['listQueueStats'] = async (target) => {
  const answer = await getJson(target, ['queues', target.vhost], '?columns=name,messages_ready,messages_unacknowledged,consumers,message_stats');
  return (answer as unknown[]).map(fromEntry).sort((a, b) => a.name.localeCompare(b.name));
};

export const alternatives = defineAlternatives('monitoring', [
  {
    name: 'URL resolved against baseUrl with a trailing slash, no zod schema of its own kind, columns= query, localeCompare sort',
    layer: {
      queueStats: async (target, queue) => fromEntry(await getJson(target, ['queues', target.vhost, queue])),
      listQueueStats: listed,
    },
  },
  {
    name: 'queueStats finds the queue in the vhost list, and says "not found" when it is not there',
    layer: {
      listQueueStats: listed,
      async queueStats(target, queue) {
        const found = (await listed(target)).find((stats) => stats.name === queue);
        if (!found) throw new Error(`queue ${JSON.stringify(queue)} not found in vhost ${JSON.stringify(target.vhost)}`);
        return found;
      },
    },
  },
  {
    name: 'the reference, with a plain parse of each entry (no zod)',
    layer: reading(),
  },
]);
