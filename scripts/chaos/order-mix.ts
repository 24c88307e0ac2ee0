// The orders a chaos run places: a fixed mix, the same for the same seed, each with the outcome it
// must reach. About one in ten is meant to fail (half out of stock, half over the payment limit),
// one in four is express, the rest complete with one to three lines of the everyday products.
import type { OrderOutcome } from '../../shared/messages/order-trail.ts';
import { STARTING_CATALOGUE } from '../../solutions/services/inventory/catalogue.ts';

export type Outcome = OrderOutcome;

export interface PlannedOrder {
  orderId: string;
  body: { orderId: string; user: string; items: Array<{ sku: string; quantity: number }>; express: boolean };
  expected: Outcome;
}

const EVERYDAY = ['item1', 'item2', 'item3', 'item4', 'item5'];
/** Never in stock (catalogue.ts): the order is rejected. */
const OUT_OF_STOCK = 'unobtainium';
/** Costs more than the default PAYMENT_LIMIT_CENTS: reserved, declined, released. */
const OVER_THE_LIMIT = 'gold-bar';

/** mulberry32: a small seeded generator, so a run's mix can be placed again exactly. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function planOrders(count: number, idPrefix: string, seed: number): PlannedOrder[] {
  const random = seededRandom(seed);
  const pick = <T>(values: readonly T[]) => values[Math.floor(random() * values.length)] as T;
  return Array.from({ length: count }, (_, index) => {
    const orderId = `${idPrefix}-${index}`;
    const express = index % 4 === 1;
    const user = `customer-${index % 37}`;
    const lines = new Map<string, number>();
    for (let line = 0, n = 1 + Math.floor(random() * 3); line < n; line++) lines.set(pick(EVERYDAY), 1 + Math.floor(random() * 3));
    let expected: Outcome = 'completed';
    // Every tenth order is meant to fail, alternating the two ways.
    if (index % 10 === 5) {
      expected = (index / 10) % 2 < 1 ? 'rejected' : 'failed';
      lines.set(expected === 'rejected' ? OUT_OF_STOCK : OVER_THE_LIMIT, 1);
    }
    const items = [...lines].map(([sku, quantity]) => ({ sku, quantity }));
    return { orderId, body: { orderId, user, items, express }, expected };
  });
}

/** What a fresh inventory database holds (catalogue.ts), by sku. */
export function startingStock(): Map<string, number> {
  return new Map(STARTING_CATALOGUE.map((entry) => [entry.sku, entry.onHand]));
}
