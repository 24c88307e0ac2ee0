// The HTTP edge: a retried POST is one order, a reused id with other contents is a conflict, a
// bad request is answered 400/415 naming the offending field, with nothing stored or published, an
// unknown order is 404 on every endpoint, and every endpoint is in the README's table.
import fs from 'node:fs';
import os from 'node:os';
import { beforeAll, describe, expect, it } from 'vitest';
import { PlaceOrderBody } from '../../shared/messages/http.ts';
import { EXCHANGES } from '../../shared/topology/topology.ts';
import { AuditStore } from '../../solutions/services/audit/audit-store.ts';
import type { RunningSystem } from '../../solutions/system.ts';
import { TestBrokerClient, type MessageCollector } from './support/broker-client.ts';
import { getJson, getOrder, postOrder, waitForStatus } from './support/order-api.ts';
import { countOf, waitForAudit } from './support/service-state.ts';
import { useSystemUnderTest } from './support/system-under-test.ts';

interface ErrorBody {
  error: string;
  field?: string;
  issues?: { field: string; message: string }[];
}

const README = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const API_SOURCE = fs.readFileSync(new URL('../../solutions/services/order/http-api.ts', import.meta.url), 'utf8');

describe('the HTTP API in the README', () => {
  it("lists every endpoint the order service serves, and no other, in the README's table", () => {
    const served = [...API_SOURCE.matchAll(/app\.(get|post|put|patch|delete)\('([^']+)'/g)].map(
      ([, method, route]) => `${method?.toUpperCase()} ${route}`,
    );
    const listed = [...README.matchAll(/^\| `((?:GET|POST|PUT|PATCH|DELETE) \/[^`]*)` \|/gm)].map(([, endpoint]) => endpoint);
    expect(served.length).toBeGreaterThanOrEqual(6);
    expect([...listed].sort()).toEqual([...served].sort());
  });

  it("the README's example order is a valid body", () => {
    const bodies = [...README.matchAll(/curl -X POST \S+\/orders .*-d '([^']+)'/g)].map(
      ([, body]) => JSON.parse(body as string) as unknown,
    );
    expect(bodies.length).toBeGreaterThanOrEqual(1);
    for (const body of bodies) expect(PlaceOrderBody.safeParse(body).error?.issues).toBeUndefined();
  });
});

describe('HTTP API', () => {
  const sut = useSystemUnderTest('http-api');
  let system: RunningSystem;
  let baseUrl: string;

  beforeAll(async () => {
    system = await sut.start();
    baseUrl = `${system.baseUrl}`;
  });

  it("listens on loopback only by default: the machine's other addresses are refused", async () => {
    const port = new URL(baseUrl).port;
    const outside = Object.values(os.networkInterfaces())
      .flat()
      .find((address) => address && address.family === 'IPv4' && !address.internal);
    // A machine with no other address has nothing to refuse.
    if (!outside) return;
    await expect(fetch(`http://${outside.address}:${port}/health`, { signal: AbortSignal.timeout(3000) })).rejects.toThrow();
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
  });

  describe('placing the same order twice', () => {
    const body = { orderId: 'twice', user: 'gayal', items: ['item1', 'item2'] };

    it('is one order: 201, then 200 with the same order, and one order.created', async () => {
      const first = await postOrder(baseUrl, body);
      expect(first.status).toBe(201);
      const second = await postOrder(baseUrl, body);
      expect(second.status, '🚨 a client retry of the same order is answered 200, not a second order').toBe(200);
      expect(second.body.orderId).toBe('twice');
      expect(second.body.createdAt).toBe(first.body.createdAt);

      await waitForStatus(baseUrl, 'twice', 'completed');
      const trail = await waitForAudit(new AuditStore(system.runtime('audit').db), 'twice', ['order.created', 'order.completed']);
      expect(countOf(trail, 'order.created')).toBe(1);
      expect(countOf(trail, 'order.completed')).toBe(1);
    });

    it('with different items under the same id is a conflict (409)', async () => {
      const conflicting = await postOrder<ErrorBody>(baseUrl, { ...body, items: ['item3'] });
      expect(conflicting.status).toBe(409);
      expect(conflicting.body.error).toMatch(/already exists/);
      const order = await getOrder(baseUrl, 'twice');
      expect(order?.items).toEqual([
        { sku: 'item1', quantity: 1 },
        { sku: 'item2', quantity: 1 },
      ]);
    });
  });

  describe('an order that does not exist', () => {
    it('is 404 on every endpoint that names an order, the payment too, with the same error', async () => {
      const answers = {
        order: await getJson<ErrorBody>(`${baseUrl}/orders/nope`),
        payment: await getJson<ErrorBody>(`${baseUrl}/orders/nope/payment`),
        confirm: await fetch(`${baseUrl}/orders/nope/confirm-delivery`, { method: 'POST', signal: AbortSignal.timeout(10_000) }).then(
          async (r) => ({ status: r.status, body: (await r.json()) as ErrorBody }),
        ),
      };
      for (const [endpoint, answer] of Object.entries(answers)) {
        expect(answer, `🚨 ${endpoint} of an unknown order`).toEqual({ status: 404, body: { error: 'no order nope' } });
      }
    });

    it('an order that exists but was never charged is not a 404: the payment service answers "unknown"', async () => {
      // Never in stock: rejected by inventory, so payment never sees it.
      const placed = await postOrder(baseUrl, { orderId: 'never-charged', user: 'gayal', items: ['unobtainium'] });
      expect(placed.status).toBe(201);
      await waitForStatus(baseUrl, 'never-charged', 'rejected');
      const payment = await getJson(`${baseUrl}/orders/never-charged/payment`);
      expect(payment).toEqual({ status: 200, body: { orderId: 'never-charged', status: 'unknown' } });
    });

    it('GET /orders/:id is answered the same by its fast path and by Express: escapes decoded, a query string ignored, a bad escape 400', async () => {
      const placed = await postOrder(baseUrl, { orderId: 'fast:path.id', user: 'gayal', items: ['item1'] });
      expect(placed.status).toBe(201);
      await waitForStatus(baseUrl, 'fast:path.id', 'completed'); // so every answer below sees the same order
      const id = encodeURIComponent('fast:path.id');
      const plain = await fetch(`${baseUrl}/orders/${id}`);
      expect(plain.headers.get('content-type')).toBe('application/json; charset=utf-8');
      const body = (await plain.json()) as { orderId: string; history: unknown[] };
      expect(body.orderId).toBe('fast:path.id');
      expect(body.history.length).toBeGreaterThan(0);
      // Through Express (HEAD is not the fast path's): the same status and headers.
      const head = await fetch(`${baseUrl}/orders/${id}`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect((await getJson(`${baseUrl}/orders/${id}?fields=all`)).body).toEqual(body);
      expect((await getJson<ErrorBody>(`${baseUrl}/orders/nope/`)).body).toEqual({ error: 'no order nope' });
      expect((await getJson<ErrorBody>(`${baseUrl}/orders/%E0%A4%A`)).status).toBe(400);
    });

    it('an endpoint that does not exist is a JSON 404 too', async () => {
      const answer = await getJson<ErrorBody>(`${baseUrl}/nowhere`);
      expect(answer).toEqual({ status: 404, body: { error: 'no such endpoint: GET /nowhere' } });
    });
  });

  describe('lines of the same sku', () => {
    it('are one line, their quantities added: up to the cap of 1000 the order is accepted and completes', async () => {
      const items = [{ sku: 'item5', quantity: 600 }, 'item2', { sku: 'item5', quantity: 399 }, 'item5'];
      const placed = await postOrder(baseUrl, { orderId: 'merged-to-the-cap', user: 'gayal', items });
      expect(placed.status).toBe(201);
      expect(placed.body.items).toEqual([
        { sku: 'item5', quantity: 1000 },
        { sku: 'item2', quantity: 1 },
      ]);
      // What was published is what every consumer accepts: nothing parked, the order goes all the way.
      await waitForStatus(baseUrl, 'merged-to-the-cap', 'completed');
    });
  });

  describe('bad requests', () => {
    let client: TestBrokerClient;
    let orderCreated: MessageCollector;

    beforeAll(async () => {
      client = await TestBrokerClient.connect(sut.vhost.url);
      orderCreated = await client.probe(EXCHANGES.order, 'order.created');
      return () => client.close();
    });

    const ordersStored = () => system.runtime('order').db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM orders').get()?.n;

    const badBodies: { name: string; body: { orderId: string } & Record<string, unknown>; field: string; error?: RegExp }[] = [
      { name: 'missing user', body: { orderId: 'bad-user', items: ['item1'] }, field: 'user' },
      { name: 'an empty user', body: { orderId: 'bad-user-empty', user: '', items: ['item1'] }, field: 'user' },
      { name: 'a user of spaces', body: { orderId: 'bad-user-blank', user: ' \t ', items: ['item1'] }, field: 'user' },
      {
        name: 'a user of NULs',
        body: { orderId: 'bad-user-nul', user: '\u0000\u0000', items: ['item1'] },
        field: 'user',
        error: /control characters/,
      },
      {
        name: 'a control character inside a user',
        body: { orderId: 'bad-user-newline', user: 'gayal\nadmin', items: ['item1'] },
        field: 'user',
        error: /control characters/,
      },
      // Found by tests/fuzz: SQLite stored it as U+FFFD, so a retry of the same body was a 409.
      {
        name: 'a lone surrogate in a user',
        body: { orderId: 'bad-user-surrogate', user: 'gayal\ud800', items: ['item1'] },
        field: 'user',
        error: /lone surrogate/,
      },
      { name: 'empty items', body: { orderId: 'bad-items', user: 'gayal', items: [] }, field: 'items' },
      {
        name: 'quantity 0',
        body: { orderId: 'bad-quantity', user: 'gayal', items: [{ sku: 'item1', quantity: 0 }] },
        field: 'items.0.quantity',
      },
      {
        name: 'a quantity sent as a string',
        body: { orderId: 'bad-quantity-string', user: 'gayal', items: ['item2', { sku: 'item1', quantity: '2' }] },
        field: 'items.1.quantity',
      },
      {
        name: 'a quantity sent as a boolean',
        body: { orderId: 'bad-quantity-boolean', user: 'gayal', items: [{ sku: 'item1', quantity: true }] },
        field: 'items.0.quantity',
      },
      {
        name: 'an item that is neither a sku nor an object',
        body: { orderId: 'bad-item-number', user: 'gayal', items: [42] },
        field: 'items.0',
      },
      {
        name: 'an unknown key inside an item',
        body: { orderId: 'bad-item-extra', user: 'gayal', items: [{ sku: 'item1', quantity: 1, colour: 'red' }] },
        field: 'items.0.colour',
      },
      {
        name: 'lines of one sku adding up to more than 1000',
        body: {
          orderId: 'bad-merged',
          user: 'gayal',
          items: [
            { sku: 'item1', quantity: 1000 },
            { sku: 'item1', quantity: 1000 },
          ],
        },
        field: 'items',
        error: /item1 totals 2000 .*at most 1000 per sku/,
      },
      {
        name: 'a sku shorthand tipping a line over 1000',
        body: { orderId: 'bad-merged-shorthand', user: 'gayal', items: [{ sku: 'item2', quantity: 1000 }, 'item2'] },
        field: 'items',
        error: /item2 totals 1001/,
      },
      { name: 'an unknown extra field', body: { orderId: 'bad-extra', user: 'gayal', items: ['item1'], coupon: 'FREE' }, field: 'coupon' },
    ];

    it.each(badBodies)('$name: 400 naming field $field, nothing stored', async ({ body, field, error }) => {
      const answer = await postOrder<ErrorBody>(baseUrl, body);
      expect(answer.status).toBe(400);
      expect(answer.body.field, `🚨 the 400 should name the offending field (${answer.body.error})`).toBe(field);
      expect(answer.body.error).toMatch(new RegExp(`^invalid field ${field.replaceAll('.', '\\.')}: `));
      if (error) expect(answer.body.error).toMatch(error);
      expect(answer.body.issues, 'every issue is listed, the first one included').toContainEqual(expect.objectContaining({ field }));
      expect(await getOrder(baseUrl, body.orderId)).toBeUndefined();
    });

    // `/orders/.` and `/orders/..` are not the order's address: URLs resolve dot segments (the Location header, a GET).
    it.each(['.', '..', '...'])('orderId %j: 400 naming orderId', async (orderId) => {
      const answer = await postOrder<ErrorBody>(baseUrl, { orderId, user: 'gayal', items: ['item1'] });
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ field: 'orderId', error: expect.stringMatching(/only of dots/) });
    });

    it('a body that is not JSON: 400', async () => {
      const answer = await postOrder<ErrorBody>(baseUrl, '{"orderId": "bad-json", "user": ', 'application/json');
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ field: '(body)', error: expect.stringMatching(/not valid JSON/) });
      expect(await getOrder(baseUrl, 'bad-json')).toBeUndefined();
    });

    // Found by tests/fuzz: these were answered without a field (`{"error": "incorrect header check"}`).
    it('a body that cannot be read (not compressed as its Content-Encoding says, too large): a 4xx naming the body', async () => {
      const body = JSON.stringify({ orderId: 'bad-encoding', user: 'gayal', items: ['item1'] });
      const notGzip = await fetch(`${baseUrl}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body,
      });
      expect(notGzip.status).toBe(400);
      expect(await notGzip.json()).toMatchObject({ field: '(body)', error: expect.stringMatching(/^the body could not be read: /) });
      const tooLarge = await postOrder<ErrorBody>(baseUrl, { orderId: 'bad-size', user: 'x'.repeat(200 * 1024), items: ['item1'] });
      expect(tooLarge.status).toBe(413);
      expect(tooLarge.body).toMatchObject({ field: '(body)', error: expect.stringMatching(/too large/) });
      expect(await getOrder(baseUrl, 'bad-encoding')).toBeUndefined();
    });

    it('a body that is not sent as JSON: 415', async () => {
      const answer = await postOrder<ErrorBody>(baseUrl, 'orderId=bad-type&user=gayal&items=item1', 'application/x-www-form-urlencoded');
      expect(answer.status).toBe(415);
      const plain = await postOrder<ErrorBody>(
        baseUrl,
        JSON.stringify({ orderId: 'bad-type', user: 'gayal', items: ['item1'] }),
        'text/plain',
      );
      expect(plain.status).toBe(415);
      expect(await getOrder(baseUrl, 'bad-type')).toBeUndefined();
    });

    it('none of them was stored or published', async () => {
      const storedBefore = ordersStored();
      // A good order after the bad ones: order.created events leave in order over one channel, so
      // once this one reached our queue, any published by a bad request would have arrived before it.
      const sentinel = await postOrder(baseUrl, { orderId: 'after-the-bad-ones', user: 'gayal', items: ['item1'] });
      expect(sentinel.status).toBe(201);
      await orderCreated.waitFor((message) => message.properties.correlationId === 'after-the-bad-ones', 'order.created of the good order');

      const published = orderCreated.messages.map((message) => message.properties.correlationId as string);
      expect(published, '🚨 a rejected request must not publish order.created').toEqual(['after-the-bad-ones']);
      expect(ordersStored()).toBe((storedBefore ?? 0) + 1);
    });
  });
});
