// Milestone 8: monitoring. How deep is each queue, how many messages are being worked on, who is
// consuming? The management HTTP API knows. Read README.md in this folder first.
// Run `npm run milestone -- 8` to watch it work, `npm run grade -- 8` to check it.
import { z } from 'zod';
import type { ManagementTarget, MonitoringLayer, QueueStats } from '../../shared/layers/08-monitoring.ts';
import { todo } from '../../shared/workshop/exercise.ts';

// 🐨 A zod schema for the fields you read from one queue of GET /api/queues/... (see the README):
//    name, messages_ready, messages_unacknowledged, consumers, and message_stats with
//    publish_details.rate and deliver_get_details.rate.
// 💰 A queue the broker has not sampled yet lacks all but name: make the others .optional().
const QueueInfo = z.object({ name: z.string() });

// 🐨 GET `${baseUrl}/api${path}` with basic auth, and return the parsed JSON.
//    Throw an Error naming the status and the path when !response.ok (404 unknown queue, 401 login).
// 💰 authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`
async function getJson(target: ManagementTarget, path: string): Promise<unknown> {
  void [target, path];
  return todo(import.meta.url, 'getJson');
}

// 🐨 One entry of the API's answer → QueueStats. Every missing number counts as 0.
function toStats(info: z.infer<typeof QueueInfo>): QueueStats {
  void info;
  return todo(import.meta.url, 'toStats');
}

export const monitoring: MonitoringLayer = {
  async queueStats(target, queue) {
    // 🐨 GET /queues/{vhost}/{queue}, parse it with QueueInfo, return toStats(...).
    // 💰 Encode both names with encodeURIComponent: the default vhost "/" must become %2F.
    void [getJson, toStats, target, queue];
    return todo(import.meta.url, 'queueStats');
  },

  async listQueueStats(target) {
    // 🐨 GET /queues/{vhost} (only this vhost's queues), parse it with z.array(QueueInfo),
    //    turn each into QueueStats, and sort them by name.
    void target;
    return todo(import.meta.url, 'listQueueStats');
  },
};
