// Milestone 8: monitoring. How deep is each queue, how many messages are being worked on, who is
// consuming? The management HTTP API knows. Read README.md in this folder first.
// Run `npm run milestone -- 8` to watch it work, `npm run grade -- 8` to check it.
import { z } from 'zod';
import type { ManagementTarget, MonitoringLayer, QueueStats } from '../../shared/layers/08-monitoring.ts';
import { todo } from '../../shared/workshop/exercise.ts';

// 🐨 Describe the part of one queue's answer that you read (see README § Ready, unacked, consumers
//    and § Rates), remembering what the answer looks like before the broker has sampled a queue
//    (§ Why the numbers are sampled).
const QueueInfo = z.object({ name: z.string() });

// 🐨 Ask the management API for `path` as the target's user and give back the JSON it answers
//    (see README § Talking to the API and § Where the API is). A refusal must reject, saying what the
//    API answered (§ When the API says no).
async function getJson(target: ManagementTarget, path: string): Promise<unknown> {
  void [target, path];
  return todo(import.meta.url, 'getJson');
}

// 🐨 One queue of the answer → QueueStats. No field may come out undefined.
function toStats(info: z.infer<typeof QueueInfo>): QueueStats {
  void info;
  return todo(import.meta.url, 'toStats');
}

export const monitoring: MonitoringLayer = {
  async queueStats(target, queue) {
    // 🐨 This queue of the target's vhost, as the API says it is now (see README § Names in a URL).
    void [getJson, toStats, target, queue];
    return todo(import.meta.url, 'queueStats');
  },

  async listQueueStats(target) {
    // 🐨 Every queue of the target's vhost (and of no other vhost), sorted by name.
    void target;
    return todo(import.meta.url, 'listQueueStats');
  },
};
