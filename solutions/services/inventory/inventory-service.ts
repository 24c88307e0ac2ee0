// The inventory service: stock levels and reservations.
import { QUEUES } from '../../../shared/topology/topology.ts';
import type { ServiceDefinition } from '../../runtime/service-definition.ts';
import { inventoryHandlers } from './inventory-handlers.ts';
import { findStalledReservations, migrateStock } from './stock-store.ts';

export const inventoryService: ServiceDefinition = {
  name: 'inventory',
  migrate: migrateStock,
  consumers: [{ queue: QUEUES.inventory, handlers: inventoryHandlers }],
  findStalled: findStalledReservations,
};
