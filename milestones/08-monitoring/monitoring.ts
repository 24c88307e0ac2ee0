// Milestone 8: monitoring. How deep is each queue, how many messages are being worked on, who is
// consuming? The management HTTP API knows. Read README.md in this folder first.
// Run `npm run milestone -- 8` to watch it work, `npm run grade -- 8` to check it.
import { z } from 'zod';
import type { ManagementTarget, MonitoringLayer, QueueStats } from '../../shared/layers/08-monitoring.ts';
import { todo } from '../../shared/workshop/exercise.ts';

// 🐨 Goal: the part of one queue's answer that you read, as the API answers it for every queue,
//    sampled or not (README § Ready, unacked, consumers, rates; § The contract, clauses 1 to 3).
const QueueInfo = z.object({ name: z.string() });

// 🐨 Goal: the JSON the management API answers for `path`, asked as the target's user
//    (clauses 4, 7, 8 and 9).
async function getJson(target: ManagementTarget, path: string): Promise<unknown> {
  void [target, path];
  return todo(import.meta.url, 'getJson');
}

// 🐨 Goal: one queue of the answer as QueueStats (clauses 1 to 3).
function toStats(info: z.infer<typeof QueueInfo>): QueueStats {
  void info;
  return todo(import.meta.url, 'toStats');
}

export const monitoring: MonitoringLayer = {
  async queueStats(target, queue) {
    // 🐨 Goal: this queue of the target's vhost, as the API says it is now (clauses 1 to 4, 6 to 10).
    void [getJson, toStats, target, queue];
    return todo(import.meta.url, 'queueStats');
  },

  async listQueueStats(target) {
    // 🐨 Goal: the same for every queue of the target's vhost (clause 5).
    void target;
    return todo(import.meta.url, 'listQueueStats');
  },
};
