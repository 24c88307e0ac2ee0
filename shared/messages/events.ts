// The event catalogue: every message that crosses the broker, as zod schemas.
// These schemas are the single source of truth; types come from z.infer.
import { z } from 'zod';

export const SCHEMA_VERSION = 1;

export const SERVICE_NAMES = ['order', 'inventory', 'payment', 'shipping', 'notification', 'audit'] as const;
export const ServiceName = z.enum(SERVICE_NAMES);
export type ServiceName = z.infer<typeof ServiceName>;

export const OrderItem = z.object({
  sku: z.string().min(1).max(100),
  quantity: z.number().int().positive().max(1000),
});
export type OrderItem = z.infer<typeof OrderItem>;

const orderId = z.string().min(1).max(100);
const cents = z.number().int().nonnegative();

/** Payload schema for each event type. The key is both the event type and its routing key. */
export const eventPayloads = {
  'order.created': z.object({ user: z.string().min(1), items: z.array(OrderItem).min(1) }),
  'order.paid': z.object({ paymentId: z.string(), amount: cents }),
  'order.shipped': z.object({ shipmentId: z.string() }),
  'order.completed': z.object({}),
  'order.rejected': z.object({ reason: z.string() }),
  'order.failed': z.object({ reason: z.string() }),
  'inventory.reserved': z.object({ items: z.array(OrderItem), amount: cents }),
  'inventory.out_of_stock': z.object({
    missing: z.array(z.object({ sku: z.string(), requested: z.number().int(), available: z.number().int() })),
  }),
  'inventory.committed': z.object({ items: z.array(OrderItem) }),
  'inventory.released': z.object({ items: z.array(OrderItem), reason: z.string() }),
  'payment.success': z.object({ paymentId: z.string(), amount: cents }),
  'payment.failed': z.object({ reason: z.string(), amount: cents }),
  'shipping.prepared': z.object({ shipmentId: z.string() }),
  'shipping.delivered': z.object({ shipmentId: z.string() }),
  // The customer's confirmation that the parcel arrived (simulated, or POST /orders/:id/confirm-delivery).
  'delivery.confirmed': z.object({ confirmedBy: z.enum(['customer', 'simulation']) }),
  // A service saw the order stop moving and asks every publisher to send its events about the order
  // again, under their first message ids (docs/architecture.md § Re-driving a stalled order).
  'saga.stalled': z.object({ reason: z.string().min(1).max(500), attempt: z.number().int().positive().max(100) }),
} as const;

export type EventType = keyof typeof eventPayloads;
export const EVENT_TYPES = Object.keys(eventPayloads) as EventType[];
export const EventTypeSchema = z.enum(EVENT_TYPES as [EventType, ...EventType[]]);

/** Fields every event carries, whatever its type. */
const envelopeFields = {
  messageId: z.string().min(1),
  orderId,
  occurredAt: z.iso.datetime(),
  schemaVersion: z.literal(SCHEMA_VERSION),
  source: ServiceName,
  /** Express orders are published with a higher AMQP priority at every step. */
  express: z.boolean().default(false),
};

function envelopeOf<T extends EventType>(type: T) {
  return z.object({ ...envelopeFields, type: z.literal(type), payload: eventPayloads[type] });
}

export const DomainEventSchema = z.discriminatedUnion(
  'type',
  EVENT_TYPES.map((type) => envelopeOf(type)) as unknown as [
    ReturnType<typeof envelopeOf<EventType>>,
    ...ReturnType<typeof envelopeOf<EventType>>[],
  ],
);

export type EventOf<T extends EventType> = {
  messageId: string;
  orderId: string;
  occurredAt: string;
  schemaVersion: typeof SCHEMA_VERSION;
  source: ServiceName;
  express: boolean;
  type: T;
  payload: z.infer<(typeof eventPayloads)[T]>;
};
export type DomainEvent = { [T in EventType]: EventOf<T> }[EventType];

/** Builds a new event with a fresh message id and the current time. */
export function newEvent<T extends EventType>(
  type: T,
  fields: { orderId: string; source: ServiceName; express?: boolean; payload: z.infer<(typeof eventPayloads)[T]> },
): EventOf<T> {
  return {
    messageId: crypto.randomUUID(),
    orderId: fields.orderId,
    occurredAt: new Date().toISOString(),
    schemaVersion: SCHEMA_VERSION,
    source: fields.source,
    express: fields.express ?? false,
    type,
    payload: fields.payload,
  };
}

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && Object.hasOwn(eventPayloads, value);
}
