// Property-based fuzzing of the HTTP API's POST routes. Every body either gets a 4xx naming the
// offending field, with nothing stored or published, or is accepted and its order reaches a
// terminal status; never a 5xx. Seeded (tests/fuzz/support/fuzz-settings.ts): FUZZ_SEED replays a run.
// Deliveries are confirmed by hand (DELIVERY_DELAY_MS=manual) so that confirm-delivery can be
// fuzzed on orders that really are shipped, and the test says when each order completes.
import fc from 'fast-check';
import type { ConsumeMessage } from 'amqplib';
import { beforeAll, describe, expect, it } from 'vitest';
import { DomainEventSchema } from '../../shared/messages/events.ts';
import { EXCHANGES } from '../../shared/topology/topology.ts';
import type { OrderStatus } from '../../solutions/services/order/order-store.ts';
import type { RunningSystem } from '../../solutions/system.ts';
import { eventually } from '../support/eventually.ts';
import { TestBrokerClient, type MessageCollector } from '../system/support/broker-client.ts';
import { getOrder, postOrder, type OrderView } from '../system/support/order-api.ts';
import { useSystemUnderTest } from '../system/support/system-under-test.ts';
import { fuzzParameters, replayHint } from './support/fuzz-settings.ts';
import { FRESH_ORDER_ID, mergedItems, printableHttpCases, summaryOf, type HttpCase } from './support/order-bodies.ts';

const ORDER_RUNS = 300;
const CONFIRM_RUNS = 80;
const TERMINAL: OrderStatus[] = ['completed', 'rejected', 'failed'];

interface ErrorBody {
  error?: unknown;
  field?: unknown;
}

interface Answer {
  status: number;
  body: unknown;
}

async function send(
  url: string,
  body: string | Uint8Array | undefined,
  contentType: string | undefined,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { ...(contentType === undefined ? {} : { 'content-type': contentType }), ...headers },
    // A Buffer is sent as it is, with no Content-Type of its own.
    body: typeof body === 'string' || body === undefined ? body : Buffer.from(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as unknown };
  } catch {
    return { status: response.status, body: text };
  }
}

/** A value fast-check prints cut to 80 characters in a counterexample. */
function printedShort<T>(value: T) {
  const text = JSON.stringify(value) ?? String(value);
  return { value, [fc.toStringMethod]: () => (text.length > 80 ? `${text.slice(0, 80)}… (${text.length} characters)` : text) };
}

describe('fuzzing the HTTP API', () => {
  const sut = useSystemUnderTest('fuzz-http');
  let system: RunningSystem;
  let baseUrl: string;
  let client: TestBrokerClient;
  /** A copy of every event on order.exchange. */
  let bus: MessageCollector;

  /** Accepted orders, by id, with the case that placed them. */
  const accepted = new Map<string, HttpCase>();
  /** Ids this run put in bodies that were refused: none may be stored or published. */
  const refusedIds = new Set<string>();
  /** 202s of confirm-delivery, by order id: one delivery.confirmed each. */
  const confirmations = new Map<string, number>();
  let executions = 0;

  beforeAll(async () => {
    system = await sut.start({ config: { deliveryDelayMs: 'manual' } });
    baseUrl = `${system.baseUrl}`;
    client = await TestBrokerClient.connect(sut.vhost.url);
    bus = await client.probe(EXCHANGES.order, '#');
    return () => client.close();
  });

  const eventsFor = (orderId: string, type?: string): ConsumeMessage[] =>
    bus.messages.filter(
      (message) => message.properties.correlationId === orderId && (type === undefined || message.properties.type === type),
    );

  it(`POST /orders: ${ORDER_RUNS} bodies, each refused naming its field with nothing stored, or accepted as sent`, async () => {
    await fc.assert(
      fc.asyncProperty(printableHttpCases, async (httpCase) => {
        executions += 1;
        const freshId = `fz-${executions}`;
        const slot = JSON.stringify(FRESH_ORDER_ID);
        const usesId = typeof httpCase.body === 'string' && httpCase.body.includes(slot);
        const body = typeof httpCase.body === 'string' ? httpCase.body.replace(slot, JSON.stringify(freshId)) : httpCase.body;
        const { status, body: answer } = await send(`${baseUrl}/orders`, body, httpCase.contentType, httpCase.headers);

        expect(status, `🚨 never a 5xx: ${JSON.stringify(answer)}`).toBeLessThan(500);
        if (status >= 200 && status < 300) {
          const expected = httpCase.accepts;
          expect(expected, `🚨 accepted (${status}) a body that must be refused: ${JSON.stringify(answer)}`).toBeDefined();
          expect([201, 202], 'a new order is 201 (or 202 while its event waits in the outbox)').toContain(status);
          const order = answer as OrderView;
          if (expected?.orderId === FRESH_ORDER_ID) expect(order.orderId).toBe(freshId);
          expect(order.items, 'lines of one sku merged').toEqual(mergedItems(expected?.items ?? []));
          expect(order.user).toBe(expected?.user);
          expect(order.express).toBe(expected?.express ?? false);
          accepted.set(order.orderId, httpCase);
          // What was published is the order as stored (201: the broker has confirmed it).
          const [created] = await eventually(
            () => eventsFor(order.orderId, 'order.created').length > 0 && eventsFor(order.orderId, 'order.created'),
            {
              timeoutMs: 5000,
              intervalMs: 5,
              what: `order.created of ${order.orderId}`,
            },
          );
          const event = JSON.parse((created as ConsumeMessage).content.toString('utf8')) as { payload: { items: unknown } };
          expect(event.payload.items).toEqual(order.items);
          const parsed = DomainEventSchema.safeParse(event);
          expect(
            parsed.error?.issues,
            '🚨 the order.created published is one its consumers accept (else they park it: the order never ends)',
          ).toBeUndefined();
          return;
        }
        const refusal = httpCase.refuses;
        expect(refusal, `🚨 refused (${status}) a body that is valid: ${JSON.stringify(answer)}`).toBeDefined();
        expect(refusal?.statuses, `🚨 the wrong 4xx: ${JSON.stringify(answer)}`).toContain(status);
        const error = answer as ErrorBody;
        expect(typeof error.error, '🚨 a 4xx says what is wrong').toBe('string');
        // A 415 for the Content-Type names a header, not a field; every other refusal names its field.
        if (refusal?.fields.length) {
          expect(refusal.fields, `🚨 the ${status} names the offending field (${String(error.error)})`).toContain(error.field);
          expect(String(error.error)).toMatch(error.field === '(body)' ? /body/ : `invalid field ${String(error.field)}:`);
        }
        if (usesId) {
          refusedIds.add(freshId);
          expect(await getOrder(baseUrl, freshId), '🚨 a refused order is not stored').toBeUndefined();
        }
      }),
      fuzzParameters(ORDER_RUNS),
    );
    // The generators are meant to make both outcomes common; a change that broke that would test little.
    expect(accepted.size, 'accepted orders among the cases').toBeGreaterThan(ORDER_RUNS / 5);
    expect(refusedIds.size, 'refused orders among the cases').toBeGreaterThan(ORDER_RUNS / 3);
  }, 120_000);

  it(`POST /orders/:id/confirm-delivery: ${CONFIRM_RUNS} requests on shipped, unfinished and unknown orders; never a 5xx`, async () => {
    const settled = await waitForStatuses([...accepted.keys()], ['shipped', 'rejected', 'failed'], 30_000);
    const known = [...accepted.keys()];
    const unknownIds = fc.oneof(
      fc.constantFrom('nope', '', '.', '..', '%', '%2F..', 'a/b', ' ', '\u0000', '🦊', 'fz-0', known[0]?.toUpperCase() ?? 'FZ-1'),
      fc.string({ maxLength: 40, unit: 'binary' }),
      fc.integer({ min: 1000, max: 20_000 }).map((length) => 'x'.repeat(length)),
    );
    // A URL over Node's header limit (16 KiB) is refused before any route: 431.
    const target =
      known.length > 0 ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...known) }, { weight: 1, arbitrary: unknownIds }) : unknownIds;
    const jsonType = fc.constantFrom('application/json', 'application/json; charset=utf-8');
    const requestBody = fc.oneof(
      fc.constant({ what: 'no body', body: undefined, contentType: undefined, parseError: false }),
      fc
        .tuple(
          fc.jsonValue({ maxDepth: 3 }).filter((value) => typeof value === 'object' && value !== null),
          jsonType,
        )
        .map(([value, contentType]) => ({ what: 'a JSON body it ignores', body: JSON.stringify(value), contentType, parseError: false })),
      fc
        .tuple(fc.constantFrom('null', '42', '"x"', '{', '{"a":', 'nope', '\u0001'), jsonType)
        .map(([body, contentType]) => ({ what: 'not JSON, sent as JSON', body, contentType, parseError: true })),
      fc.string({ unit: 'binary', maxLength: 200 }).map((body) => ({ what: 'text', body, contentType: 'text/plain', parseError: false })),
      fc
        .uint8Array({ maxLength: 300 })
        .map((bytes) => ({ what: 'bytes', body: bytes, contentType: 'application/octet-stream', parseError: false })),
    );

    await fc.assert(
      fc.asyncProperty(target.map(printedShort), requestBody, async ({ value: orderId }, request) => {
        const before = accepted.has(orderId) ? (await getOrder(baseUrl, orderId))?.status : undefined;
        const { status, body } = await send(
          `${baseUrl}/orders/${encodeURIComponent(orderId)}/confirm-delivery`,
          request.body,
          request.contentType,
        );
        expect(status, `🚨 never a 5xx: ${JSON.stringify(body)}`).toBeLessThan(500);
        if (status === 431) {
          expect(encodeURIComponent(orderId).length, '🚨 431 is for a URL too long').toBeGreaterThan(8000);
          return;
        }
        if (request.parseError) {
          expect(
            { status, field: (body as ErrorBody).field },
            `🚨 a body that is not JSON is a 400 naming the body: ${JSON.stringify(body)}`,
          ).toEqual({ status: 400, field: '(body)' });
          return;
        }
        if (before === undefined) {
          // Unknown, or not an order's address at all (an empty id, dot segments, a URL too long).
          expect([404, 431], `🚨 confirm-delivery of an unknown order: ${JSON.stringify(body)}`).toContain(status);
          return;
        }
        if (status === 202) {
          expect(before, '🚨 only a shipped order can be confirmed').toBe('shipped');
          confirmations.set(orderId, (confirmations.get(orderId) ?? 0) + 1);
          return;
        }
        expect(status, `🚨 an order that is ${before}: ${JSON.stringify(body)}`).toBe(409);
        // A shipped order is refused only once its delivery is on the way (confirmed a moment ago).
        if (before === 'shipped') expect(confirmations.get(orderId) ?? 0).toBeGreaterThan(0);
      }),
      fuzzParameters(CONFIRM_RUNS),
    );
    expect(settled.length).toBe(accepted.size);
  }, 90_000);

  it('every accepted order reaches a terminal status; a refused request published nothing', async () => {
    // The customer confirms what is still shipped, as the shop's page would.
    for (const orderId of accepted.keys()) {
      if ((await getOrder(baseUrl, orderId))?.status !== 'shipped') continue;
      const { status } = await send(`${baseUrl}/orders/${encodeURIComponent(orderId)}/confirm-delivery`, undefined, undefined);
      if (status === 202) confirmations.set(orderId, (confirmations.get(orderId) ?? 0) + 1);
    }
    await waitForStatuses([...accepted.keys()], TERMINAL, 30_000);

    // Events leave the order service in order over one channel: once this order's event is on the
    // bus, anything a refused request had published would be there before it.
    const sentinel = await postOrder(baseUrl, { orderId: 'fuzz-http-sentinel', user: 'gayal', items: ['item1'] });
    expect(sentinel.status).toBe(201);
    await eventually(() => eventsFor('fuzz-http-sentinel', 'order.created').length > 0, { what: 'the sentinel order.created on the bus' });

    const created = bus.messages
      .filter((message) => message.properties.type === 'order.created')
      .map((message) => String(message.properties.correlationId));
    expect([...created].sort(), `🚨 one order.created per accepted order, none for a refused one (${replayHint()})`).toEqual(
      [...accepted.keys(), 'fuzz-http-sentinel'].sort(),
    );
    const published = [...refusedIds].filter((orderId) => eventsFor(orderId).length > 0);
    expect(published, `🚨 refused requests whose order id was published (${replayHint()})`).toEqual([]);
    const confirmedByApi = new Map<string, number>();
    for (const message of bus.messages) {
      if (message.properties.type !== 'delivery.confirmed' || message.properties.appId !== 'order') continue;
      const orderId = String(message.properties.correlationId);
      confirmedByApi.set(orderId, (confirmedByApi.get(orderId) ?? 0) + 1);
    }
    expect(Object.fromEntries(confirmedByApi), '🚨 one delivery.confirmed per 202 of confirm-delivery, none otherwise').toEqual(
      Object.fromEntries(confirmations),
    );
    const stored = system.runtime('order').db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM orders').get()?.n;
    expect(stored, 'orders stored: the accepted ones and the sentinel').toBe(accepted.size + 1);
  }, 90_000);

  /** Waits until every order has one of `statuses`; on timeout names the orders that did not, with their cases. */
  async function waitForStatuses(orderIds: string[], statuses: OrderStatus[], timeoutMs: number): Promise<string[]> {
    const last = new Map<string, OrderStatus | undefined>();
    const pending = new Set(orderIds);
    try {
      await eventually(
        async () => {
          await Promise.all(
            [...pending].map(async (orderId) => {
              const status = (await getOrder(baseUrl, orderId))?.status;
              last.set(orderId, status);
              if (status && statuses.includes(status)) pending.delete(orderId);
            }),
          );
          return pending.size === 0;
        },
        { timeoutMs, intervalMs: 100, what: `${orderIds.length} accepted orders to be ${statuses.join(' or ')}` },
      );
    } catch (error) {
      const stuck = [...pending]
        .slice(0, 10)
        .map((orderId) => `  ${orderId} is ${String(last.get(orderId))} — ${summaryOf(accepted.get(orderId) as HttpCase)}`);
      throw new Error(`🚨 ${(error as Error).message}; ${pending.size} did not get there (${replayHint()}):\n${stuck.join('\n')}`, {
        cause: error,
      });
    }
    return orderIds;
  }
});
