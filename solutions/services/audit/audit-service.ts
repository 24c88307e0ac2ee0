// The audit service: records every event from audit.fanout.exchange for compliance, from audit.queue,
// or from audit.stream with AUDIT_STREAM=on (milestone 10; the runtime's stream-readers.ts keeps its place).
import { type DomainEvent, EVENT_TYPES } from '../../../shared/messages/events.ts';
import { AUDIT_STREAM, QUEUES } from '../../../shared/topology/topology.ts';
import type { EventHandler, HandlerMap, ServiceDefinition } from '../../runtime/service-definition.ts';
import type { StreamEventHandler } from '../../runtime/stream-readers.ts';
import { AuditStore, findIncompleteTrails, migrateAudit } from './audit-store.ts';

const logEvent: StreamEventHandler = (event, { db, log }) => {
  new AuditStore(db).record(event);
  log.info(`logged event: ${event.type} for order ${event.orderId}`);
};

const recordEvent: EventHandler = (event, context) => logEvent(event as DomainEvent, context);

export const auditService: ServiceDefinition = {
  name: 'audit',
  migrate: migrateAudit,
  consumers: [
    { queue: QUEUES.audit, handlers: Object.fromEntries(EVENT_TYPES.map((type) => [type, recordEvent])) as HandlerMap, sink: true },
  ],
  streams: { [AUDIT_STREAM.name]: logEvent },
  findStalled: findIncompleteTrails,
};
