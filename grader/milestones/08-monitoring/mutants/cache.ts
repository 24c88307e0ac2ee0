// A cache a learner puts in front of a monitoring layer, "since the broker samples every 5 s anyway".
import type { ManagementTarget, MonitoringLayer } from '../../../../shared/layers/08-monitoring.ts';

/** Answers from a cache: forever, or for ttlMs ("the broker samples every 5 s anyway"). */
export function cached(layer: MonitoringLayer, ttlMs = Infinity): MonitoringLayer {
  const cache = new Map<string, { at: number; value: Promise<unknown> }>();
  const remember = <T>(key: string, load: () => Promise<T>): Promise<T> => {
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < ttlMs) return hit.value as Promise<T>;
    const value = load();
    cache.set(key, { at: Date.now(), value });
    value.catch(() => cache.delete(key));
    return value;
  };
  const key = (target: ManagementTarget) => `${target.baseUrl} ${target.username} ${target.password} ${target.vhost}`;
  return {
    queueStats: (target, queue) => remember(`${key(target)} ${queue}`, () => layer.queueStats(target, queue)),
    listQueueStats: (target) => remember(key(target), () => layer.listQueueStats(target)),
  };
}
