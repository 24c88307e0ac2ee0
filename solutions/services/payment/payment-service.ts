// The payment service: charges for reserved orders, and answers payment-status RPCs.
import { QUEUES } from '../../../shared/topology/topology.ts';
import type { ServiceDefinition } from '../../runtime/service-definition.ts';
import { paymentHandlers, paymentStatusEndpoint } from './payment-handlers.ts';
import { migratePayments } from './payment-store.ts';

export const paymentService: ServiceDefinition = {
  name: 'payment',
  migrate: migratePayments,
  consumers: [{ queue: QUEUES.payment, handlers: paymentHandlers }],
  rpc: (host) => [{ queue: QUEUES.paymentRpc, handle: paymentStatusEndpoint(host) }],
};
