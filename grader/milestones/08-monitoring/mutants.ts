// Known-wrong monitoring layers for milestone 8 (the fields people misread, the URLs they build
// wrong, the refusals they swallow, the caches they add): the reference's steps (mutants/reader.ts)
// with one done the wrong way, or the reference behind a cache; and known-valid ones built another way.
import { z } from 'zod';
import type { QueueStats } from '../../../shared/layers/08-monitoring.ts';
import { monitoring as reference } from '../../../solutions/layers/08-monitoring.ts';
import { defineAlternatives, defineMutants } from '../../mutant.ts';
import { alternatives as valid } from './mutants/alternatives.ts';
import { cached } from './mutants/cache.ts';
import { GIVE_UP_MS, type RawQueue, reading, referenceRead } from './mutants/reader.ts';

const zeros = (queue: string): QueueStats => ({ name: queue, ready: 0, unacked: 0, consumers: 0, publishRate: 0, deliverRate: 0 });

export const mutants = defineMutants('monitoring', [
  {
    name: 'ready and unacked swapped',
    breaks: ['08.counts', '08.real-broker'],
    layer: reading({
      toStats: (info) => ({ ...referenceRead.toStats(info), ready: info.messages_unacknowledged ?? 0, unacked: info.messages_ready ?? 0 }),
    }),
  },
  {
    name: 'ready read from messages (which counts ready and unacked together)',
    breaks: ['08.counts', '08.real-broker', '08.list'],
    layer: reading({ toStats: (info) => ({ ...referenceRead.toStats(info), ready: info.messages ?? 0 }) }),
  },
  {
    name: 'missing numbers passed on as undefined (no default of 0)',
    breaks: ['08.counts', '08.rates'],
    layer: reading({
      toStats: (info) => ({
        name: info.name,
        ready: info.messages_ready as number,
        unacked: info.messages_unacknowledged as number,
        consumers: info.consumers as number,
        publishRate: info.message_stats?.publish_details?.rate as number,
        deliverRate: info.message_stats?.deliver_get_details?.rate as number,
      }),
    }),
  },
  {
    name: 'a zod schema that requires messages_ready: a queue not sampled yet fails to parse',
    breaks: ['08.counts', '08.list', '08.rates'],
    layer: reading({
      toStats: (info) =>
        referenceRead.toStats(z.object({ name: z.string(), messages_ready: z.number() }).passthrough().parse(info) as RawQueue),
    }),
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
    layer: reading({ toStats: (info) => ({ ...referenceRead.toStats(info), publishRate: 0, deliverRate: 0 }) }),
  },
  {
    name: 'publishRate read from message_stats.publish (a count, not a rate)',
    breaks: ['08.rates'],
    layer: reading({ toStats: (info) => ({ ...referenceRead.toStats(info), publishRate: info.message_stats?.publish ?? 0 }) }),
  },
  {
    name: 'deliverRate read from deliver_details (consumer deliveries only, no basic.get)',
    breaks: ['08.rates'],
    layer: reading({
      toStats: (info) => ({ ...referenceRead.toStats(info), deliverRate: info.message_stats?.deliver_details?.rate ?? 0 }),
    }),
  },
  {
    name: 'lists GET /api/queues: the queues of every vhost',
    breaks: ['08.list'],
    layer: reading({ listPath: () => '/queues' }),
  },
  {
    name: 'the list left in the order the API answers',
    breaks: ['08.list'],
    layer: reading({ sort: () => 0 }),
  },
  {
    name: 'the vhost goes into the URL unencoded',
    breaks: ['08.vhost-name'],
    layer: reading({ encodeVhost: (vhost) => vhost }),
  },
  {
    name: 'names encoded with encodeURI, which leaves "/" and "#" alone',
    breaks: ['08.vhost-name'],
    layer: reading({ encodeVhost: encodeURI, encodeQueue: encodeURI }),
  },
  {
    name: 'the queue name goes into the URL unencoded',
    breaks: ['08.vhost-name'],
    layer: reading({ encodeQueue: (queue) => queue }),
  },
  {
    name: 'baseUrl and /api joined without removing a trailing slash',
    breaks: ['08.base-url'],
    layer: reading({ url: (baseUrl, path) => `${baseUrl}/api${path}` }),
  },
  {
    name: "new URL('/api/...', baseUrl): an absolute path drops baseUrl's path prefix",
    breaks: ['08.base-url'],
    layer: reading({ url: (baseUrl, path) => new URL(`/api${path}`, baseUrl).href }),
  },
  {
    name: 'the credentials hard-coded to guest:guest',
    breaks: ['08.base-url', '08.counts', '08.list'],
    layer: reading({ credentials: () => 'guest:guest' }),
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
    layer: reading({ checkStatus: () => {} }),
  },
  {
    name: 'a refusal becomes an error that says neither the status nor what went wrong',
    breaks: ['08.refusals'],
    layer: reading({
      checkStatus(response) {
        if (!response.ok) throw new Error('management API request failed');
      },
    }),
  },
  {
    name: 'fetch without a deadline: an API that never answers keeps the caller waiting for ever',
    breaks: ['08.refusals'],
    layer: reading({ timeoutMs: () => undefined }),
  },
  {
    name: 'a deadline on the single-queue request only: listQueueStats waits for ever',
    breaks: ['08.refusals'],
    layer: reading({ timeoutMs: (path) => (path.split('/').length > 3 ? GIVE_UP_MS : undefined) }),
  },
  {
    name: 'a generous 30 s deadline, "the API is slow under load"',
    breaks: ['08.refusals'],
    layer: reading({ timeoutMs: () => 30_000 }),
  },
  {
    name: 'a request that timed out answers zeros (or no queues), "so the dashboard shows something"',
    breaks: ['08.refusals'],
    layer: reading({
      onFetchError(error, path) {
        if (!(error instanceof Error && error.name === 'TimeoutError')) throw error;
        return path.split('/').length > 3 ? { name: decodeURIComponent(path.split('/')[3] ?? '') } : [];
      },
    }),
  },
]);

export const alternatives = defineAlternatives('monitoring', valid);
