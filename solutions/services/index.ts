// The six services, by name.
import type { ServiceName } from '../../shared/messages/events.ts';
import type { ServiceDefinition } from '../runtime/service-definition.ts';
import { auditService } from './audit/audit-service.ts';
import { inventoryService } from './inventory/inventory-service.ts';
import { notificationService } from './notification/notification-service.ts';
import { orderService } from './order/order-service.ts';
import { paymentService } from './payment/payment-service.ts';
import { shippingService } from './shipping/shipping-service.ts';

export const SERVICES: Record<ServiceName, ServiceDefinition> = {
  order: orderService,
  inventory: inventoryService,
  payment: paymentService,
  shipping: shippingService,
  notification: notificationService,
  audit: auditService,
};
