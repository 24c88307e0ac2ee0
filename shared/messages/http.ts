// Schemas for HTTP request bodies. Validated at the edge; the rest of the code trusts them.
import { z } from 'zod';
import { OrderItem } from './events.ts';

/** Items may be plain SKUs ("item1", quantity 1) or {sku, quantity} objects. */
const ItemInput = z.union([z.string().min(1).max(100), OrderItem]);

export const PlaceOrderBody = z
  .object({
    orderId: z.string().min(1).max(100).regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only').optional(),
    user: z.string().min(1).max(200),
    items: z.array(ItemInput).min(1).max(100),
    express: z.boolean().optional(),
  })
  .strict();
export type PlaceOrderBody = z.infer<typeof PlaceOrderBody>;

export function normalizeItems(items: PlaceOrderBody['items']): OrderItem[] {
  const bySku = new Map<string, number>();
  for (const item of items) {
    const { sku, quantity } = typeof item === 'string' ? { sku: item, quantity: 1 } : item;
    bySku.set(sku, (bySku.get(sku) ?? 0) + quantity);
  }
  return [...bySku].map(([sku, quantity]) => ({ sku, quantity }));
}
