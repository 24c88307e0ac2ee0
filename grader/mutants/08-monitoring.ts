// Known-wrong monitoring layers for milestone 8: the fields people misread and the URLs they build wrong.
import type { ManagementTarget, MonitoringLayer, QueueStats } from '../../shared/layers/08-monitoring.ts';
import { monitoring as reference } from '../../solutions/layers/08-monitoring.ts';
import { defineMutants } from './mutant.ts';

interface RawQueue {
  name: string;
  messages?: number;
  messages_ready?: number;
  messages_unacknowledged?: number;
  consumers?: number;
  message_stats?: { publish?: number; publish_details?: { rate: number }; deliver_get_details?: { rate: number } };
}

/** GET from the management API, with or without checking the status, with or without encoding the vhost. */
async function get(target: ManagementTarget, path: string, options: { checkStatus?: boolean } = {}): Promise<unknown> {
  const authorization = `Basic ${Buffer.from(`${target.username}:${target.password}`).toString('base64')}`;
  const response = await fetch(`${target.baseUrl.replace(/\/$/, '')}/api${path}`, { headers: { authorization }, signal: AbortSignal.timeout(10_000) });
  if ((options.checkStatus ?? true) && !response.ok) throw new Error(`management API GET ${path} answered ${response.status}`);
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

/** A layer built from a raw GET and a mapping: the URL and the mapping are where the mistakes are. */
function reading(toStats: (info: RawQueue) => QueueStats, options: { encode?: (vhost: string) => string; listPath?: (vhost: string) => string; checkStatus?: boolean } = {}): MonitoringLayer {
  const encode = options.encode ?? encodeURIComponent;
  return {
    async queueStats(target, queue) {
      return toStats((await get(target, `/queues/${encode(target.vhost)}/${encodeURIComponent(queue)}`, options)) as RawQueue);
    },
    async listQueueStats(target) {
      const path = options.listPath?.(target.vhost) ?? `/queues/${encode(target.vhost)}`;
      return ((await get(target, path, options)) as RawQueue[]).map(toStats).sort((a, b) => (a.name < b.name ? -1 : 1));
    },
  };
}

export const mutants = defineMutants('monitoring', [
  {
    name: 'ready and unacked swapped',
    breaks: ['08.ready', '08.unacked'],
    layer: reading((info) => ({ ...referenceStats(info), ready: info.messages_unacknowledged ?? 0, unacked: info.messages_ready ?? 0 })),
  },
  {
    name: 'ready read from messages (which counts ready and unacked together)',
    breaks: ['08.unacked'],
    layer: reading((info) => ({ ...referenceStats(info), ready: info.messages ?? 0 })),
  },
  {
    name: 'unacked read from messages_ready',
    breaks: ['08.unacked'],
    layer: reading((info) => ({ ...referenceStats(info), unacked: info.messages_ready ?? 0 })),
  },
  {
    name: 'consumers never read (always 0)',
    breaks: ['08.consumers'],
    layer: reading((info) => ({ ...referenceStats(info), consumers: 0 })),
  },
  {
    name: 'lists GET /api/queues: the queues of every vhost',
    breaks: ['08.list'],
    layer: reading(referenceStats, { listPath: () => '/queues' }),
  },
  {
    name: 'sorts the list deepest queue first',
    breaks: ['08.list'],
    layer: { ...reference, listQueueStats: async (target) => (await reference.listQueueStats(target)).sort((a, b) => b.ready - a.ready) },
  },
  {
    name: 'answers zeros when the API says 404 or 401',
    breaks: ['08.refusals'],
    layer: {
      queueStats: (target, queue) => reference.queueStats(target, queue).catch(() => ({ name: queue, ready: 0, unacked: 0, consumers: 0, publishRate: 0, deliverRate: 0 })),
      listQueueStats: (target) => reference.listQueueStats(target).catch(() => []),
    },
  },
  {
    name: 'parses the body without checking the status: the error is a parsing error',
    breaks: ['08.refusals'],
    layer: reading((info) => {
      if (typeof info.name !== 'string') throw new TypeError('Cannot read properties of undefined');
      return referenceStats(info);
    }, { checkStatus: false }),
  },
  {
    name: 'the vhost goes into the URL unencoded',
    breaks: ['08.vhost-name'],
    layer: reading(referenceStats, { encode: (vhost) => vhost }),
  },
  {
    name: 'publishRate read from message_stats.publish (a count, not a rate)',
    breaks: ['08.rates'],
    layer: reading((info) => ({ ...referenceStats(info), publishRate: info.message_stats?.publish ?? 0 })),
  },
  {
    name: 'rates left undefined until the broker has sampled the queue',
    breaks: ['08.rates'],
    layer: reading((info) => ({ ...referenceStats(info), publishRate: info.message_stats?.publish_details?.rate as number, deliverRate: info.message_stats?.deliver_get_details?.rate as number })),
  },
]);
