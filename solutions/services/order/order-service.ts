// The order service: the HTTP API where orders come in, and the order's state machine driven by
// what inventory, payment and shipping report.
import { QUEUES } from '../../../shared/topology/topology.ts';
import type { ServiceDefinition } from '../../runtime/service-definition.ts';
import { orderHandlers } from './order-handlers.ts';
import { findStalledOrders, migrateOrders } from './order-store.ts';

export const orderService: ServiceDefinition = {
  name: 'order',
  migrate: migrateOrders,
  consumers: [{ queue: QUEUES.order, handlers: orderHandlers }],
  // Imported here, not above: Express is the largest module graph a service loads, and the other
  // five services, which import this definition with the rest (services/index.ts), never serve HTTP.
  start: async (host) => (await import('./http-api.ts')).startHttpApi(host),
  findStalled: findStalledOrders,
};
