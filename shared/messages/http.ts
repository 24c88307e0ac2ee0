// Schemas for HTTP request bodies. Validated at the edge; the rest of the code trusts them.
import { z } from 'zod';
import { eventPayloads, OrderItem } from './events.ts';

/** At most this many of one sku per order: the cap of the consumers' schema (events.ts). */
const MAX_QUANTITY_PER_SKU = OrderItem.shape.quantity.maxValue ?? Number.POSITIVE_INFINITY;

/**
 * Items may be plain SKUs ("item1", quantity 1) or {sku, quantity} objects, and nothing else in
 * them. The shorthand is turned into the object before validating, rather than a z.union of the
 * two: a union that fails both ways reports the element (`items.0`), not the field that is wrong
 * (`items.0.quantity` for a quantity "2").
 */
const ItemInput = z.preprocess(
  (item) => (typeof item === 'string' ? { sku: item, quantity: 1 } : item),
  z.strictObject(OrderItem.shape, {
    error: (issue) => (issue.code === 'invalid_type' ? 'expected a sku ("item1") or an object {"sku", "quantity"}' : undefined),
  }),
);

const OrderId = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only')
  // `.` and `..` would be path segments: /orders/.. is not this order's address.
  .refine((id) => !/^\.+$/.test(id), 'an id made only of dots is refused');

// \p{Cc}: C0 controls (NUL, tab, newline...), DEL and C1 controls. None belongs in a name, and a
// name of only those (or of only spaces) names nobody. \p{Cs}: a lone UTF-16 surrogate is not
// text; SQLite would store it as U+FFFD, so the order kept would not be the order published, and
// a client's retry of the same body would be a 409.
const User = z
  .string()
  .min(1)
  .max(200)
  .refine((user) => user.trim() !== '', 'a blank user is refused')
  .refine((user) => !/\p{Cc}/u.test(user), 'control characters (NUL, tab, newline...) are refused in a user')
  .refine((user) => !/\p{Cs}/u.test(user), 'a lone surrogate (not Unicode text) is refused in a user');

const PlaceOrderInput = z
  .object({
    orderId: OrderId.optional(),
    user: User,
    items: z.array(ItemInput).min(1).max(100),
    express: z.boolean().optional(),
  })
  .strict();

/** Lines of the same sku become one line, quantities added, in the order each sku first appears. */
export function normalizeItems(items: readonly OrderItem[]): OrderItem[] {
  const bySku = new Map<string, number>();
  for (const { sku, quantity } of items) bySku.set(sku, (bySku.get(sku) ?? 0) + quantity);
  return [...bySku].map(([sku, quantity]) => ({ sku, quantity }));
}

/**
 * The body of POST /orders, parsed into the order as it will be published: items merged by sku.
 * What is published is checked with the consumers' own order.created schema, so the API cannot
 * accept an order every consumer would then park (two lines of 1000 merge into one of 2000).
 */
export const PlaceOrderBody = PlaceOrderInput.transform((body, context) => {
  const items = normalizeItems(body.items);
  const published = eventPayloads['order.created'].safeParse({ user: body.user, items });
  if (published.success) return { ...body, items };
  for (const issue of published.error.issues) {
    const [field, index] = issue.path;
    // An index here counts merged lines, not the lines sent: name the sku instead.
    const item = field === 'items' && typeof index === 'number' ? items[index] : undefined;
    context.addIssue({
      code: 'custom',
      path: field === undefined ? [] : [field],
      message:
        item && issue.code === 'too_big'
          ? `${item.sku} totals ${item.quantity} (lines of one sku are added up); at most ${MAX_QUANTITY_PER_SKU} per sku`
          : `the order.created event would not match its schema: ${issue.message}`,
    });
  }
  return z.NEVER;
});
export type PlaceOrderBody = z.output<typeof PlaceOrderBody>;
