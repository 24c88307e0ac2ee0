// A seam for the fault suite (`npm run chaos`): with CHAOS_FAILURE_RATE set (0 to 1), every event
// handler first throws a transient error at that rate, before it has done anything, as a flaky
// disk or a lost lock would. The runtime then treats it like any handler error: rolled back,
// retried through the retry queue, parked after MAX_ATTEMPTS. Unset (the default) it is not there.
import type { EventHandler, HandlerMap, ServiceDefinition } from '../runtime/service-definition.ts';

export class TransientFailureError extends Error {
  override name = 'TransientFailureError';
}

/** The rate from the environment: undefined when unset or 0; a bad value is an error naming the variable. */
export function transientFailureRate(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env.CHAOS_FAILURE_RATE;
  if (raw === undefined || raw === '') return undefined;
  const rate = Number(raw);
  if (!Number.isFinite(rate) || rate < 0 || rate > 1) throw new Error(`invalid environment: CHAOS_FAILURE_RATE: a number from 0 to 1, not "${raw}"`);
  return rate > 0 ? rate : undefined;
}

function failingSometimes(handlers: HandlerMap, rate: number, random: () => number): HandlerMap {
  const wrapped: Record<string, EventHandler> = {};
  for (const [type, handler] of Object.entries(handlers) as Array<[string, EventHandler]>) {
    wrapped[type] = (event, context) => {
      if (random() < rate) throw new TransientFailureError(`injected transient failure (CHAOS_FAILURE_RATE=${rate}) before handling ${event.type} for order ${event.orderId}`);
      handler(event, context);
    };
  }
  return wrapped as HandlerMap;
}

/** The service with every consumer's handlers wrapped; the same object when `rate` is undefined. */
export function withTransientFailures(service: ServiceDefinition, rate: number | undefined, random: () => number = Math.random): ServiceDefinition {
  if (rate === undefined) return service;
  return { ...service, consumers: service.consumers.map((consumer) => ({ ...consumer, handlers: failingSometimes(consumer.handlers, rate, random) })) };
}
