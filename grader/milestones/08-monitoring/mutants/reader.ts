// The reference's monitoring layer (solutions/layers/08-monitoring.ts) written as named steps: a raw
// GET of the management API and a mapping of its answer. A known-wrong layer is this one with one
// step done the wrong way: `reading({ encodeVhost: encodeURI })`; with no edit it is a known-valid one.
import type { ManagementTarget, MonitoringLayer, QueueStats } from '../../../../shared/layers/08-monitoring.ts';

/** A queue as GET /api/queues answers it, as far as the layer reads it. */
export interface RawQueue {
  name: string;
  messages?: number;
  messages_ready?: number;
  messages_unacknowledged?: number;
  consumers?: number;
  message_stats?: {
    publish?: number;
    publish_details?: { rate: number };
    deliver_get_details?: { rate: number };
    deliver_details?: { rate: number };
  };
}

export interface ReadSteps {
  /** How the vhost and the queue name go into the path. */
  encodeVhost(vhost: string): string;
  encodeQueue(queue: string): string;
  /** The list's path. */
  listPath(encodedVhost: string): string;
  /** The URL of a path of the API, from baseUrl. */
  url(baseUrl: string, path: string): string;
  /** The user:password of the Authorization header. */
  credentials(target: ManagementTarget): string;
  /** How long a request may wait for an answer (undefined: for ever), by path. */
  timeoutMs(path: string): number | undefined;
  /** What a request whose fetch failed (a refused connection, a deadline) becomes: rethrown. */
  onFetchError(error: unknown, path: string): unknown;
  /** Throws for a refusal (a status other than 2xx), saying the status and the path. */
  checkStatus(response: Response, path: string): void;
  /** A queue of the answer as the layer's QueueStats. */
  toStats(info: RawQueue): QueueStats;
  /** The list's order: by name. */
  sort(a: QueueStats, b: QueueStats): number;
}

export const GIVE_UP_MS = 5_000;

export const referenceRead: ReadSteps = {
  encodeVhost: encodeURIComponent,
  encodeQueue: encodeURIComponent,
  listPath: (encodedVhost) => `/queues/${encodedVhost}`,
  url: (baseUrl, path) => `${baseUrl.replace(/\/$/, '')}/api${path}`,
  credentials: (target) => `${target.username}:${target.password}`,
  timeoutMs: () => GIVE_UP_MS,
  onFetchError(error) {
    throw error;
  },
  checkStatus(response, path) {
    if (!response.ok) throw new Error(`management API GET ${path} answered ${response.status}`);
  },
  toStats: (info) => ({
    name: info.name,
    ready: info.messages_ready ?? 0,
    unacked: info.messages_unacknowledged ?? 0,
    consumers: info.consumers ?? 0,
    publishRate: info.message_stats?.publish_details?.rate ?? 0,
    deliverRate: info.message_stats?.deliver_get_details?.rate ?? 0,
  }),
  sort: (a, b) => (a.name < b.name ? -1 : 1),
};

/** The layer of the reference's steps, with `edit`'s in place of them. */
export function reading(edit: Partial<ReadSteps> = {}): MonitoringLayer {
  const steps: ReadSteps = { ...referenceRead, ...edit };
  const get = async (target: ManagementTarget, path: string): Promise<unknown> => {
    const timeoutMs = steps.timeoutMs(path);
    const headers = { authorization: `Basic ${Buffer.from(steps.credentials(target)).toString('base64')}` };
    let response: Response;
    try {
      response = await fetch(steps.url(target.baseUrl, path), {
        headers,
        signal: timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      return steps.onFetchError(error, path);
    }
    steps.checkStatus(response, path);
    return response.json();
  };
  const vhostOf = (target: ManagementTarget) => steps.encodeVhost(target.vhost);
  return {
    async queueStats(target, queue) {
      const info = (await get(target, `/queues/${vhostOf(target)}/${steps.encodeQueue(queue)}`)) as RawQueue;
      if (typeof info?.name !== 'string') throw new TypeError("Cannot read properties of undefined (reading 'name')");
      return steps.toStats(info);
    },
    async listQueueStats(target) {
      const queues = (await get(target, steps.listPath(vhostOf(target)))) as RawQueue[];
      if (!Array.isArray(queues)) throw new TypeError('queues.map is not a function');
      return queues.map(steps.toStats).sort(steps.sort);
    },
  };
}
