// The order service's HTTP API as a client sees it: place orders, read them, wait for a status.
import type { Order, OrderHistoryEntry, OrderStatus } from '../../../solutions/services/order/order-store.ts';
import { eventually } from '../../support/eventually.ts';

export type OrderView = Order & { history: OrderHistoryEntry[] };

export interface HttpReply<T = unknown> {
  status: number;
  body: T;
}

/** The seed's example order. */
export const SEED_ORDER = { orderId: '123', user: 'gayal', items: ['item1', 'item2'] };

async function reply<T>(response: Response): Promise<HttpReply<T>> {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body: body as T };
}

/** POST /orders with a JSON body (an object), or any raw body and content type. */
export async function postOrder<T = OrderView>(baseUrl: string, body: unknown, contentType = 'application/json'): Promise<HttpReply<T>> {
  const response = await fetch(`${baseUrl}/orders`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  return reply<T>(response);
}

export async function getJson<T>(url: string): Promise<HttpReply<T>> {
  return reply<T>(await fetch(url, { signal: AbortSignal.timeout(10_000) }));
}

export async function getOrder(baseUrl: string, orderId: string): Promise<OrderView | undefined> {
  const { status, body } = await getJson<OrderView>(`${baseUrl}/orders/${encodeURIComponent(orderId)}`);
  if (status === 404) return undefined;
  if (status !== 200) throw new Error(`GET /orders/${orderId} answered ${status}`);
  return body;
}

/** Places an order, trying again while the API answers 503 (the broker is away: nothing was done). */
export async function placeOrderWhenAccepted(
  baseUrl: string,
  body: { orderId: string } & Record<string, unknown>,
  timeoutMs = 20_000,
): Promise<HttpReply<OrderView>> {
  return eventually(
    async () => {
      const placed = await postOrder(baseUrl, body);
      if (placed.status === 503) return undefined;
      if (![200, 201, 202].includes(placed.status))
        throw new Error(`POST /orders for ${body.orderId} answered ${placed.status}: ${JSON.stringify(placed.body)}`);
      return placed;
    },
    { timeoutMs, intervalMs: 100, what: `order ${body.orderId} to be accepted` },
  );
}

/** Waits until the order has `status`; on timeout the error says what was seen last. */
export async function waitForStatus(baseUrl: string, orderId: string, status: OrderStatus, timeoutMs = 15_000): Promise<OrderView> {
  let last: OrderView | undefined;
  try {
    return await eventually(
      async () => {
        last = await getOrder(baseUrl, orderId);
        return last?.status === status ? last : undefined;
      },
      { timeoutMs, intervalMs: 50, what: `order ${orderId} to be ${status}` },
    );
  } catch (error) {
    const seen = last ? `${last.status}; history ${last.history.map((entry) => entry.event).join(' → ')}` : 'no such order';
    throw new Error(`${(error as Error).message} (last seen: ${seen})`, { cause: error });
  }
}
