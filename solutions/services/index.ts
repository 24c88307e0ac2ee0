// The six services, by name. CHAOS_FAILURE_RATE (the fault suite's) makes their handlers fail at
// that rate first; unset, they are the services as written (transient-failures.ts).
import type { ServiceName } from '../../shared/messages/events.ts';
import type { ServiceDefinition } from '../runtime/service-definition.ts';
import { auditService } from './audit/audit-service.ts';
import { inventoryService } from './inventory/inventory-service.ts';
import { notificationService } from './notification/notification-service.ts';
import { orderService } from './order/order-service.ts';
import { paymentService } from './payment/payment-service.ts';
import { shippingService } from './shipping/shipping-service.ts';
import { transientFailureRate, withTransientFailures } from './transient-failures.ts';

const rate = transientFailureRate();

export const SERVICES: Record<ServiceName, ServiceDefinition> = {
  order: withTransientFailures(orderService, rate),
  inventory: withTransientFailures(inventoryService, rate),
  payment: withTransientFailures(paymentService, rate),
  shipping: withTransientFailures(shippingService, rate),
  notification: withTransientFailures(notificationService, rate),
  audit: withTransientFailures(auditService, rate),
};
