// Layer 8: reading queue depth, consumers and rates from the management HTTP API.
import { z } from 'zod';
import type { ManagementTarget, MonitoringLayer, QueueStats } from '../../shared/layers/08-monitoring.ts';

// Only the fields we read. A queue the broker has not sampled yet lacks most of them: they count as 0.
const count = z.number().optional();
const rate = z.object({ rate: z.number() }).optional();
const QueueInfo = z.object({
  name: z.string(),
  messages_ready: count,
  messages_unacknowledged: count,
  consumers: count,
  message_stats: z.object({ publish_details: rate, deliver_get_details: rate }).optional(),
});
type QueueInfo = z.infer<typeof QueueInfo>;

async function getJson(target: ManagementTarget, path: string): Promise<unknown> {
  const url = `${target.baseUrl.replace(/\/$/, '')}/api${path}`;
  const authorization = `Basic ${Buffer.from(`${target.username}:${target.password}`).toString('base64')}`;
  // An API that never answers (a hung proxy, a stalled node) must not hang the caller: give up after 5 s.
  const response = await fetch(url, { headers: { authorization }, signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`management API GET ${path} answered ${response.status} ${response.statusText}`);
  return response.json();
}

function toStats(info: QueueInfo): QueueStats {
  return {
    name: info.name,
    ready: info.messages_ready ?? 0,
    unacked: info.messages_unacknowledged ?? 0,
    consumers: info.consumers ?? 0,
    publishRate: info.message_stats?.publish_details?.rate ?? 0,
    deliverRate: info.message_stats?.deliver_get_details?.rate ?? 0,
  };
}

export const monitoring: MonitoringLayer = {
  async queueStats(target, queue) {
    const path = `/queues/${encodeURIComponent(target.vhost)}/${encodeURIComponent(queue)}`;
    return toStats(QueueInfo.parse(await getJson(target, path)));
  },

  async listQueueStats(target) {
    const queues = z.array(QueueInfo).parse(await getJson(target, `/queues/${encodeURIComponent(target.vhost)}`));
    return queues.map(toStats).sort((a, b) => (a.name < b.name ? -1 : 1));
  },
};
