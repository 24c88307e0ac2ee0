// Publishes and deliveries on a vhost, from the management API's message_stats. Its numbers are
// samples (collect_statistics_interval), so a reading is taken once two in a row agree.
import { ManagementApi } from '../../shared/broker/management-api.ts';

export interface MessageCounts {
  publish: number;
  /** Deliveries to consumers that ack (the services); the benchmark's own tap consumes without acks. */
  deliver: number;
}

interface VhostResponse {
  message_stats?: { publish?: number; deliver?: number };
}

async function read(api: ManagementApi, vhost: string): Promise<MessageCounts> {
  const { message_stats: stats = {} } = await api.request<VhostResponse>('GET', `/vhosts/${encodeURIComponent(vhost)}`);
  return { publish: stats.publish ?? 0, deliver: stats.deliver ?? 0 };
}

/** Waits (at most `timeoutMs`) until the counts have not moved for three readings in a row, then returns them. */
export async function settledCounts(api: ManagementApi, vhost: string, timeoutMs = 20_000): Promise<MessageCounts> {
  const deadline = Date.now() + timeoutMs;
  let last = await read(api, vhost);
  let unchanged = 0;
  while (Date.now() < deadline && unchanged < 2) {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const now = await read(api, vhost);
    unchanged = now.publish === last.publish && now.deliver === last.deliver ? unchanged + 1 : 0;
    last = now;
  }
  return last;
}
