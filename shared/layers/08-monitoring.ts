// Layer 8 (milestone 08): watching the broker through the management HTTP API.

/** Where the management API is and which vhost to look at. */
export interface ManagementTarget {
  /** For example http://localhost:15672 */
  baseUrl: string;
  username: string;
  password: string;
  vhost: string;
}

export interface QueueStats {
  name: string;
  /** Waiting to be delivered. */
  ready: number;
  /** Delivered, not yet acknowledged. */
  unacked: number;
  consumers: number;
  /** Messages per second, as sampled by the broker (0 when there is no sample yet). */
  publishRate: number;
  deliverRate: number;
}

export interface MonitoringLayer {
  /** One queue's counts. The broker samples them every few seconds, so they lag a little. */
  queueStats(target: ManagementTarget, queue: string): Promise<QueueStats>;
  /** Every queue in the vhost, sorted by name. */
  listQueueStats(target: ManagementTarget): Promise<QueueStats[]>;
}
