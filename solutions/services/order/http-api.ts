// The HTTP API. The order service hosts it because it owns the order state; everything it asks of
// other services goes through RabbitMQ.
import http from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { RpcTimeoutError } from '../../../shared/layers/index.ts';
import { newEvent } from '../../../shared/messages/events.ts';
import { PlaceOrderBody } from '../../../shared/messages/http.ts';
import { describeError } from '../../../shared/log.ts';
import { QUEUES } from '../../../shared/topology/topology.ts';
import type { ServiceHost } from '../../runtime/service-definition.ts';
import { OrderStore, type Order } from './order-store.ts';
import { countFastRead, observeRequests, traceOf } from './http-observability.ts';
import { placeOrder } from './place-order.ts';

function orderView(store: OrderStore, order: Order) {
  return { ...order, history: store.history(order.orderId) };
}

/** The field an issue is about, e.g. `items.0.quantity`; `(body)` for the body as a whole. */
function fieldOf(issue: z.core.$ZodIssue): string {
  // An unknown key is reported on the object holding it: name the key itself (`items.0.colour`).
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, ...issue.keys.slice(0, 1)] : issue.path;
  return path.length > 0 ? path.join('.') : '(body)';
}

/** 400 with the first offending field named, e.g. `items.0.quantity: Too small: expected number to be >0`. */
function badRequest(response: Response, error: z.ZodError) {
  const [first] = error.issues;
  const field = first ? fieldOf(first) : '(body)';
  response.status(400).json({
    error: `invalid field ${field}: ${first?.message ?? 'invalid'}`,
    field,
    issues: error.issues.map((issue) => ({ field: fieldOf(issue), message: issue.message })),
  });
}

function noOrderBody(orderId: string) {
  return { error: `no order ${orderId}` };
}

/** Every endpoint under /orders/:id answers an unknown order the same way. */
function noOrder(response: Response, orderId: string) {
  response.status(404).json(noOrderBody(orderId));
}

/** GET /orders/:id, whoever serves it. */
function readOrder(store: OrderStore, orderId: string): { status: number; body: unknown } {
  const order = store.find(orderId);
  return order ? { status: 200, body: orderView(store, order) } : { status: 404, body: noOrderBody(orderId) };
}

function brokerDown(response: Response) {
  response.status(503).json({ error: 'the message broker is unreachable; nothing was done, try again shortly' });
}

export function createHttpApi(host: ServiceHost) {
  const app = express();
  const store = new OrderStore(host.db);
  const readJsonBody = express.json({ limit: '100kb' });
  // A body that cannot be read (not JSON, too large, not compressed as its Content-Encoding says,
  // an unknown charset) is a 4xx naming the body, answered before any route sees the request.
  app.use((request, response, next) => {
    readJsonBody(request, response, (error?: unknown) => {
      const status = (error as { status?: number } | undefined)?.status;
      if (error === undefined || !status || status >= 500) return next(error);
      const unreadable =
        (error as { type?: string }).type === 'entity.parse.failed'
          ? 'the body is not valid JSON'
          : `the body could not be read: ${describeError(error)}`;
      response.status(status).json({ error: unreadable, field: '(body)' });
    });
  });

  app.post('/orders', async (request, response) => {
    if (!request.is('application/json')) {
      response.status(415).json({ error: 'send a JSON body with Content-Type: application/json' });
      return;
    }
    const body = PlaceOrderBody.safeParse(request.body);
    if (!body.success) return badRequest(response, body.error);
    if (!host.isBrokerConnected()) return brokerDown(response);
    const result = await placeOrder(host, body.data, traceOf(request));
    if (result.kind === 'conflict') {
      response
        .status(409)
        .json({ error: `order ${result.order.orderId} already exists with different contents`, order: orderView(store, result.order) });
      return;
    }
    const status = result.kind === 'duplicate' ? 200 : result.published ? 201 : 202;
    response
      .status(status)
      .location(`/orders/${encodeURIComponent(result.order.orderId)}`)
      .json(orderView(store, result.order));
  });

  // Most GETs are answered before Express by serveOrderReads; this route takes the rest (HEAD, say).
  app.get('/orders/:id', (request, response) => {
    const { status, body } = readOrder(store, request.params.id);
    response.status(status).json(body);
  });

  // The customer says the parcel arrived; shipping turns this into shipping.delivered.
  app.post('/orders/:id/confirm-delivery', async (request, response) => {
    const order = store.find(request.params.id);
    if (!order) return noOrder(response, request.params.id);
    if (order.status !== 'shipped') {
      response.status(409).json({ error: `order ${order.orderId} is ${order.status}; a delivery can be confirmed once it is shipped` });
      return;
    }
    if (!host.isBrokerConnected()) return brokerDown(response);
    const event = newEvent('delivery.confirmed', {
      orderId: order.orderId,
      source: 'order',
      express: order.express,
      payload: { confirmedBy: 'customer' },
    });
    const row = host.db.transaction(() => host.enqueue(event, { trace: traceOf(request) })).immediate();
    const published = await host.waitForPublish(row, 3000);
    response.status(202).json({ orderId: order.orderId, accepted: 'delivery confirmation', published });
  });

  // Payment confirmation over RPC: the payment service owns payments, we ask it through the broker.
  // An order this service never took is 404 here too, answered without a round trip; an order not
  // charged yet is the payment service's answer, `status: "unknown"`.
  app.get('/orders/:id/payment', async (request, response) => {
    if (!store.find(request.params.id)) return noOrder(response, request.params.id);
    if (!host.isBrokerConnected()) return brokerDown(response);
    try {
      response.json(await host.rpcCall(QUEUES.paymentRpc, { orderId: request.params.id }));
    } catch (error) {
      if (error instanceof RpcTimeoutError) {
        response.status(504).json({ error: `the payment service did not answer within ${error.timeoutMs} ms` });
        return;
      }
      throw error;
    }
  });

  app.get('/health', (_request, response) => {
    const connected = host.isBrokerConnected();
    response
      .status(connected ? 200 : 503)
      .json({ service: 'order', broker: connected ? 'connected' : 'disconnected', outboxPending: host.outboxPending() });
  });

  // Queue depths through the management API (layer 8), for a quick look without the UI.
  app.get('/admin/queues', async (_request, response) => {
    if (!host.config.management) {
      response.status(501).json({ error: 'RABBITMQ_MANAGEMENT_URL is not known to this service' });
      return;
    }
    response.json(await host.layers.monitoring.listQueueStats(host.config.management));
  });

  // Anything else: a JSON 404 naming the request, like the rest of the API (not Express's HTML page).
  app.use((request: Request, response: Response) => {
    response.status(404).json({ error: `no such endpoint: ${request.method} ${request.path}` });
  });

  app.use((error: unknown, _request: Request, response: Response, _next: NextFunction) => {
    const status = (error as { status?: number }).status;
    if (status && status >= 400 && status < 500) {
      response.status(status).json({ error: describeError(error) });
      return;
    }
    host.log.error('HTTP request failed', error);
    response.status(500).json({ error: 'internal error' });
  });
  return app;
}

const ORDER_PATH = /^\/orders\/([^/?#]+)\/?(?:\?.*)?$/;

/** The order id of a GET the fast path answers, else undefined (a malformed escape: Express answers it). */
function fastReadOf(request: http.IncomingMessage): string | undefined {
  const match = request.method === 'GET' ? ORDER_PATH.exec(request.url ?? '') : null;
  try {
    return match ? decodeURIComponent(match[1] as string) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * GET /orders/:id without Express: it is the request clients poll (a page showing an order asks
 * every second or so), and Express's routing and response helpers cost more than the two indexed
 * queries behind it (docs/performance.md). It answers exactly as the Express route would; anything
 * it does not recognise goes to Express. The queries run on the consumer's thread: a read thread
 * of their own was tried and made polls slower, on a quiet machine and with a busy disk alike
 * (docs/performance.md, "Reads on a thread of their own").
 */
function serveOrderReads(host: ServiceHost, app: http.RequestListener): http.RequestListener {
  const store = new OrderStore(host.db);
  return (request, response) => {
    const orderId = fastReadOf(request);
    if (orderId === undefined) return app(request, response);
    const startedAt = process.hrtime.bigint();
    const { status, body: view } = readOrder(store, orderId);
    const body = JSON.stringify(view);
    response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    response.end(body);
    countFastRead(host, status, startedAt);
  };
}

/** Starts listening; `stop` stops accepting requests and waits for open ones. */
export async function startHttpApi(host: ServiceHost): Promise<{ stop(): Promise<void>; httpPort: number }> {
  const server = http.createServer(serveOrderReads(host, observeRequests(host, createHttpApi(host))));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(host.config.httpPort, host.config.httpHost ?? '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const httpPort = typeof address === 'object' && address ? address.port : host.config.httpPort;
  host.log.info(`HTTP API listening on http://localhost:${httpPort}`);
  return {
    httpPort,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
