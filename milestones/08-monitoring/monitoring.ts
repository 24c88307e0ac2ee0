// Milestone 8: monitoring. How deep is each queue, how many messages are being worked on, who is
// consuming? The management HTTP API knows. Read README.md in this folder first.
// Run `npm run milestone -- 8` to watch it work, `npm run grade -- 8` to check it.
import { z } from 'zod';
import type { ManagementTarget, MonitoringLayer, QueueStats } from '../../shared/layers/08-monitoring.ts';
import { todo } from '../../shared/workshop/exercise.ts';

// 🐨 The part of one queue's answer that you read, as the API answers it for every queue, sampled
//    or not: clauses 1, 2 and 3.
const QueueInfo = z.object({ name: z.string() });

// 🐨 The JSON the management API answers for `path`, asked as the target's user, or an error that
//    says why not: clauses 4, 7, 8 and 9.
async function getJson(target: ManagementTarget, path: string): Promise<unknown> {
  void [target, path];
  return todo(import.meta.url, 'getJson');
}

// 🐨 One queue of the answer as QueueStats: clauses 1, 2 and 3.
function toStats(info: z.infer<typeof QueueInfo>): QueueStats {
  void info;
  return todo(import.meta.url, 'toStats');
}

export const monitoring: MonitoringLayer = {
  async queueStats(target, queue) {
    // 🐨 This queue of the target's vhost, as the API says it is now: clauses 6 and 10.
    void [getJson, toStats, target, queue];
    return todo(import.meta.url, 'queueStats');
  },

  async listQueueStats(target) {
    // 🐨 The same for every queue of the target's vhost, and of no other: clauses 5, 6 and 10.
    void target;
    return todo(import.meta.url, 'listQueueStats');
  },
};
