// The notification service: email and SMS, each fed by its own queue (from notification.exchange;
// the SMS queue through the headers exchange notification.sms.exchange).
import { QUEUES } from '../../../shared/topology/topology.ts';
import type { ServiceDefinition } from '../../runtime/service-definition.ts';
import { notificationHandlers } from './notification-handlers.ts';
import { migrateNotifications } from './notification-store.ts';

export const notificationService: ServiceDefinition = {
  name: 'notification',
  migrate: migrateNotifications,
  consumers: [
    { queue: QUEUES.notificationEmail, handlers: notificationHandlers('email'), sink: true },
    { queue: QUEUES.notificationSms, handlers: notificationHandlers('sms'), sink: true },
  ],
};
