// Known-valid monitoring layers: other URL joining, a zod schema, another sort, queueStats found in
// the list, and the reference's steps as they are. Each must pass every check.
import { z } from 'zod';
import type { ManagementTarget, MonitoringLayer, QueueStats } from '../../../../shared/layers/08-monitoring.ts';
import type { Alternative } from '../../../mutant.ts';
import { reading } from './reader.ts';

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
  constructor(
    readonly status: number,
    what: string,
  ) {
    super(`${what}: HTTP ${status} ${status === 404 ? 'Not Found' : status === 401 ? 'Unauthorized' : ''}`.trim());
  }
}

async function getJson(target: ManagementTarget, segments: string[], query = ''): Promise<unknown> {
  const root = target.baseUrl.endsWith('/') ? target.baseUrl : `${target.baseUrl}/`;
  const url = new URL(`api/${segments.map(encodeURIComponent).join('/')}${query}`, root);
  const headers = new Headers({
    Authorization: `Basic ${Buffer.from(`${target.username}:${target.password}`, 'utf8').toString('base64')}`,
  });
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
  const answer = await getJson(
    target,
    ['queues', target.vhost],
    '?columns=name,messages_ready,messages_unacknowledged,consumers,message_stats',
  );
  return (answer as unknown[]).map(fromEntry).sort((a, b) => a.name.localeCompare(b.name));
};

export const alternatives: Alternative<'monitoring'>[] = [
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
];
