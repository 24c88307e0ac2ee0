// The shipping service: prepares shipments and records deliveries.
import { QUEUES } from '../../../shared/topology/topology.ts';
import type { ServiceDefinition } from '../../runtime/service-definition.ts';
import { migrateShipments } from './shipment-store.ts';
import { shippingHandlers } from './shipping-handlers.ts';

export const shippingService: ServiceDefinition = {
  name: 'shipping',
  migrate: migrateShipments,
  consumers: [{ queue: QUEUES.shipping, handlers: shippingHandlers }],
};
