// The audit service: records every event from audit.fanout.exchange for compliance.
import { EVENT_TYPES } from '../../../shared/messages/events.ts';
import { QUEUES } from '../../../shared/topology/topology.ts';
import type { EventHandler, HandlerMap, ServiceDefinition } from '../../runtime/service-definition.ts';
import { AuditStore, findIncompleteTrails, migrateAudit } from './audit-store.ts';

const recordEvent: EventHandler = (event, { db, log }) => {
  new AuditStore(db).record(event);
  log.info(`logged event: ${event.type} for order ${event.orderId}`);
};

export const auditService: ServiceDefinition = {
  name: 'audit',
  migrate: migrateAudit,
  consumers: [
    { queue: QUEUES.audit, handlers: Object.fromEntries(EVENT_TYPES.map((type) => [type, recordEvent])) as HandlerMap, sink: true },
  ],
  findStalled: findIncompleteTrails,
};
