// A seam for the fault suite (`npm run chaos`): with CHAOS_FAILURE_RATE set (0 to 1), every event
// handler of a service run by run-service.ts first throws a transient error at that rate, before it
// has done anything, as a flaky disk or a lost lock would. The runtime then treats it like any handler error: rolled back,
// retried through the retry queue, parked after MAX_ATTEMPTS. Unset (the default) it is not there.
import type { EventHandler, HandlerMap, ServiceDefinition } from '../runtime/service-definition.ts';

export class TransientFailureError extends Error {
  override name = 'TransientFailureError';
}

function failingSometimes(handlers: HandlerMap, rate: number, random: () => number): HandlerMap {
  const wrapped: Record<string, EventHandler> = {};
  for (const [type, handler] of Object.entries(handlers) as Array<[string, EventHandler]>) {
    wrapped[type] = (event, context) => {
      if (random() < rate)
        throw new TransientFailureError(
          `injected transient failure (CHAOS_FAILURE_RATE=${rate}) before handling ${event.type} for order ${event.orderId}`,
        );
      handler(event, context);
    };
  }
  return wrapped as HandlerMap;
}

/** The service with every consumer's handlers wrapped; the same object when `rate` is undefined or 0. */
export function withTransientFailures(
  service: ServiceDefinition,
  rate: number | undefined,
  random: () => number = Math.random,
): ServiceDefinition {
  if (!rate) return service;
  return {
    ...service,
    consumers: service.consumers.map((consumer) => ({ ...consumer, handlers: failingSometimes(consumer.handlers, rate, random) })),
  };
}
