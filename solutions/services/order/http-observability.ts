// What the HTTP API tells about itself: every request counted and timed in the service's metrics by
// route, method and status; and every POST (the requests that place or change orders) opens a
// server span that the events it publishes continue, so an order's trace starts at its request.
// GETs get no span: clients poll them, and an order's trace is about what happened to the order.
import type http from 'node:http';
import { ROOT_CONTEXT, ServiceTracing, SpanKind, ORDER_ID_ATTRIBUTE, type TraceContext } from '../../observability/tracing.ts';
import type { ServiceHost } from '../../runtime/service-definition.ts';

const traces = new WeakMap<http.IncomingMessage, TraceContext>();

/**
 * Counts and times a GET /orders/:id the fast path answered (called once its response has ended):
 * a poll costs two buffered metric updates, no `close` listener and no span.
 */
export function countFastRead(host: ServiceHost, status: number, startedAt: bigint): void {
  const route = '/orders/:id';
  host.metrics.httpRequests.inc({ route, method: 'GET', status: String(status) });
  host.metrics.httpSeconds.observe({ route, method: 'GET' }, Number(process.hrtime.bigint() - startedAt) / 1e9);
}

/** The trace a request's events belong to (none for a GET). */
export function traceOf(request: http.IncomingMessage): TraceContext | undefined {
  return traces.get(request);
}

/** The route a request matched, as a label: Express sets request.route; else "(unmatched)" (never the raw path: one series per URL would be unbounded). */
function routeOf(request: http.IncomingMessage): string {
  const route = (request as http.IncomingMessage & { route?: { path?: unknown } }).route?.path;
  return typeof route === 'string' ? route : '(unmatched)';
}

/** Every request the fast path leaves to Express: counted, timed, and a POST traced. Off (OBSERVABILITY=off): passed straight on. */
export function observeRequests(host: ServiceHost, listener: http.RequestListener): http.RequestListener {
  if (host.config.observability === 'off') return listener;
  return (request, response) => {
    const method = request.method ?? 'GET';
    const stopTimer = process.hrtime.bigint();
    const started =
      method === 'POST'
        ? host.tracing.start(`${method} ${request.url?.split('?')[0] ?? ''}`, SpanKind.SERVER, ROOT_CONTEXT, {
            'http.request.method': method,
          })
        : undefined;
    if (started) traces.set(request, started.context);
    response.once('close', () => {
      const route = routeOf(request);
      const status = String(response.statusCode);
      host.metrics.httpRequests.inc({ route, method, status });
      host.metrics.httpSeconds.observe({ route, method }, Number(process.hrtime.bigint() - stopTimer) / 1e9);
      if (started) {
        const { span } = started;
        span.updateName(`${method} ${route}`);
        span.setAttributes({ 'http.route': route, 'http.response.status_code': response.statusCode });
        const orderId =
          (request as http.IncomingMessage & { params?: { id?: unknown } }).params?.id ??
          (request as http.IncomingMessage & { body?: { orderId?: unknown } }).body?.orderId;
        if (typeof orderId === 'string') span.setAttribute(ORDER_ID_ATTRIBUTE, orderId);
        if (response.statusCode >= 500) ServiceTracing.fail(span, new Error(`answered ${response.statusCode}`));
        span.end();
      }
    });
    listener(request, response);
  };
}
