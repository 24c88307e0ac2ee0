// What the dashboard knows about orders: built only from the events it sees on the broker, as any
// other consumer would (it never reads a service's database). The newest orders first, bounded.
import { DomainEventSchema } from '../../shared/messages/events.ts';

export type OrderStatus = 'pending' | 'paid' | 'shipped' | 'completed' | 'rejected' | 'failed';

export interface OrderCard {
  orderId: string;
  status: OrderStatus;
  express: boolean;
  user?: string;
  updatedAt: string;
  /**
   * In causal order: the order the dashboard's tap received them. The tap is one queue, first in
   * first out, and an event is copied into it when it is published, before any service can act
   * on it, so whatever an event causes arrives after it. (Sorting by occurredAt would not do: a
   * delayed message carries the time it was first published, and delivery.confirmed would come
   * before the order.shipped published while it waited.)
   */
  history: Array<{ type: string; source: string; occurredAt: string; receivedAt: string }>;
}

/** The event that moves an order to a status; other events only go into its history. */
const STATUS_OF: Partial<Record<string, OrderStatus>> = {
  'order.created': 'pending',
  'order.paid': 'paid',
  'order.shipped': 'shipped',
  'order.completed': 'completed',
  'order.rejected': 'rejected',
  'order.failed': 'failed',
};
const TERMINAL = new Set<OrderStatus>(['completed', 'rejected', 'failed']);
const RANK: Record<OrderStatus, number> = { pending: 0, paid: 1, shipped: 2, completed: 3, rejected: 3, failed: 3 };

export class OrderBoard {
  private readonly orders = new Map<string, OrderCard>();
  /** Deliveries that were not events at all: shown as a count, never trusted. */
  unreadable = 0;

  constructor(private readonly capacity = 200) {}

  /** Applies one delivery's body; returns the card it changed, or undefined for a body that is no event. */
  apply(body: Buffer, receivedAt = new Date()): OrderCard | undefined {
    let event: { orderId: string; type: string; source: string; occurredAt: string; express: boolean; payload: unknown };
    try {
      const parsed = DomainEventSchema.safeParse(JSON.parse(body.toString('utf8')));
      if (!parsed.success) throw parsed.error;
      event = parsed.data;
    } catch {
      this.unreadable++;
      return undefined;
    }
    const card = this.orders.get(event.orderId) ?? {
      orderId: event.orderId,
      status: 'pending' as OrderStatus,
      express: event.express,
      updatedAt: event.occurredAt,
      history: [],
    };
    if (card.history.some((h) => h.type === event.type && h.occurredAt === event.occurredAt && h.source === event.source)) return card; // a redelivery
    card.history.push({ type: event.type, source: event.source, occurredAt: event.occurredAt, receivedAt: receivedAt.toISOString() });
    if (event.type === 'order.created') card.user = (event.payload as { user?: string }).user;
    const next = STATUS_OF[event.type];
    // Events can arrive out of order (retries, competing consumers): a status never moves backwards.
    if (next && !TERMINAL.has(card.status) && RANK[next] >= RANK[card.status]) card.status = next;
    card.express = card.express || event.express;
    card.updatedAt = event.occurredAt > card.updatedAt ? event.occurredAt : card.updatedAt;
    this.orders.delete(card.orderId);
    this.orders.set(card.orderId, card);
    while (this.orders.size > this.capacity) this.orders.delete(this.orders.keys().next().value as string);
    return card;
  }

  get(orderId: string): OrderCard | undefined {
    return this.orders.get(orderId);
  }

  /** Newest first. */
  list(): OrderCard[] {
    return [...this.orders.values()].reverse();
  }
}
