// The events one order leaves behind, by how it ended: what a complete audit trail holds. The audit
// service checks finished orders against it (and asks for a re-drive of one with gaps); the fault
// suite's verdict checks every order against it.
import type { EventType } from './events.ts';

export type OrderOutcome = 'completed' | 'rejected' | 'failed';

/** The event the order service publishes when an order ends, for each way it can end. */
export const TERMINAL_EVENTS: Record<OrderOutcome, EventType> = {
  completed: 'order.completed',
  rejected: 'order.rejected',
  failed: 'order.failed',
};

/** Every event type an order's trail holds (at least once) once it has ended this way. */
export const TRAIL_OF: Record<OrderOutcome, EventType[]> = {
  completed: [
    'order.created',
    'inventory.reserved',
    'payment.success',
    'inventory.committed',
    'order.paid',
    'shipping.prepared',
    'order.shipped',
    'delivery.confirmed',
    'shipping.delivered',
    'order.completed',
  ],
  rejected: ['order.created', 'inventory.out_of_stock', 'order.rejected'],
  failed: ['order.created', 'inventory.reserved', 'payment.failed', 'inventory.released', 'order.failed'],
};

/** How the order of this trail ended (undefined: not yet, as far as the trail shows) and which of its outcome's events the trail lacks. */
export function gapsInTrail(types: ReadonlySet<string>): { outcome: OrderOutcome | undefined; missing: EventType[] } {
  const outcome = (Object.keys(TERMINAL_EVENTS) as OrderOutcome[]).find((candidate) => types.has(TERMINAL_EVENTS[candidate]));
  if (outcome === undefined) return { outcome, missing: [] };
  return { outcome, missing: TRAIL_OF[outcome].filter((type) => !types.has(type)) };
}
