// The live dashboard's HTTP side: the page, a stream of server-sent events (orders as they move,
// queue numbers, the broker's state, the services'), placing orders through the order service's
// own HTTP API, the parked messages, and — under `npm start` only — stopping and starting services.
import fs from 'node:fs';
import http from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { CliError } from '../../shared/cli/errors.ts';
import { topologySvg } from '../../shared/diagrams/topology-svg.ts';
import { SERVICE_NAMES, ServiceName } from '../../shared/messages/events.ts';
import type { Logger } from '../../shared/log.ts';
import { readOrderSpans } from '../observability/trace-reader.ts';
import type { BrokerWatch } from './broker-watch.ts';
import type { OrderBoard } from './order-board.ts';

/** What the supervisor of `npm start` lets the dashboard do; absent elsewhere. */
export interface ServiceControl {
  states(): Record<string, 'running' | 'stopped' | 'starting' | 'stopping'>;
  stop(service: ServiceName): Promise<void>;
  start(service: ServiceName): Promise<void>;
  onChange(listener: () => void): void;
}

export interface DashboardOptions {
  host: string;
  port: number;
  /** Required when host is not a loopback address: the page can stop services. */
  token?: string;
  orderApiUrl: string;
  board: OrderBoard;
  watch: BrokerWatch;
  control?: ServiceControl;
  /** Where the services keep their files: an order's trace is read from their spans files. */
  dataDir?: string;
  log: Logger;
}

const PAGE_DIR = new URL('./page/', import.meta.url);
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
/** How long after it is up the dashboard lays out the topology picture, if no page asked for it before. */
const LAYOUT_AFTER_MS = 3000;

/** A setting the person starting the dashboard must change (exit 1). */
export class DashboardConfigError extends CliError {}

export async function startDashboard(options: DashboardOptions): Promise<{ url: string; stop(): Promise<void> }> {
  const { board, watch, control } = options;
  if (!LOOPBACK.has(options.host) && !options.token) {
    throw new DashboardConfigError(
      `the dashboard can stop services: bound to ${options.host} it needs DASHBOARD_TOKEN (or bind it to 127.0.0.1)`,
    );
  }
  const app = express();
  app.use(express.json({ limit: '20kb' }));
  const asset = (file: string, type: string) => (_: Request, response: Response) => {
    response
      .type(type)
      .set('cache-control', 'no-store')
      .send(fs.readFileSync(new URL(file, PAGE_DIR)));
  };
  app.get('/', asset('index.html', 'html'));
  // The page's script is an ES module (index.html) that imports dom.js and trace.js.
  for (const script of ['page.js', 'dom.js', 'trace.js']) app.get(`/${script}`, asset(script, 'js'));
  app.get('/page.css', asset('page.css', 'css'));
  // Laid out once, then served from memory: at the first request for it, or a moment after the
  // dashboard is up. Not at once: elkjs takes about a second of CPU, which under npm start would be
  // taken from the six services starting beside the dashboard on a 2-core machine.
  let topologyPicture: Promise<string> | undefined;
  const layOut = () => {
    if (!topologyPicture) {
      topologyPicture = topologySvg(undefined, { liveQueues: true });
      topologyPicture.catch(() => {});
    }
    return topologyPicture;
  };
  app.get('/topology.svg', async (_, response) => {
    try {
      response.type('image/svg+xml').send(await layOut());
    } catch (error) {
      response
        .status(500)
        .type('text')
        .send(`could not lay out the topology: ${error instanceof Error ? error.message : String(error)}`);
    }
  });

  const state = () => ({
    orders: board.list(),
    unreadable: board.unreadable,
    queues: watch.queueViews(),
    streams: watch.streamViews(),
    broker: { connected: watch.connected },
    services: control ? control.states() : undefined,
    tokenRequired: Boolean(options.token),
  });
  app.get('/api/state', (_, response) => void response.json(state()));
  app.get('/api/orders/:id', (request, response) => {
    const card = board.get(request.params.id);
    if (!card) return void response.status(404).json({ error: `no order ${request.params.id} seen yet` });
    response.json(card);
  });

  // An order's trace: the one thing the dashboard reads from the services' files (their spans, read-only).
  app.get('/api/orders/:id/trace', (request, response) => {
    if (!options.dataDir)
      return void response.status(404).json({ error: 'this dashboard does not know where the services keep their data (DATA_DIR)' });
    response.json({ orderId: request.params.id, spans: readOrderSpans(options.dataDir, request.params.id) });
  });

  // Server-sent events: one stream per open page.
  const streams = new Set<Response>();
  const send = (event: string, data: unknown) => {
    for (const stream of streams) stream.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  app.get('/events', (request, response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    response.write(`event: state\ndata: ${JSON.stringify(state())}\n\n`);
    streams.add(response);
    request.on('close', () => streams.delete(response));
  });
  watch.on('order', (card) => send('order', card));
  watch.on('queues', (queues) => send('queues', queues));
  watch.on('streams', (streams) => send('streams', streams));
  watch.on('broker', (status) => send('broker', status));
  control?.onChange(() => send('services', control.states()));

  // Every request that changes something: a token when the dashboard is not on loopback.
  const guard = (request: Request, response: Response, next: NextFunction) => {
    if (options.token && request.get('x-dashboard-token') !== options.token)
      return void response.status(401).json({ error: 'this dashboard needs its token (DASHBOARD_TOKEN) for that' });
    next();
  };

  app.post('/api/orders', guard, async (request, response) => {
    try {
      const answer = await fetch(new URL('/orders', options.orderApiUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(request.body),
        signal: AbortSignal.timeout(5000),
      });
      response
        .status(answer.status)
        .type('json')
        .send(await answer.text());
    } catch (error) {
      response.status(502).json({
        error: `the order service at ${options.orderApiUrl} did not answer (${error instanceof Error ? error.message : String(error)})`,
      });
    }
  });

  app.get('/api/dead-letters', async (_, response) => {
    try {
      response.json(await watch.deadLetters());
    } catch (error) {
      response.status(502).json({ error: `could not read dead-letter.queue: ${error instanceof Error ? error.message : String(error)}` });
    }
  });

  app.post('/api/services/:name/:action', guard, async (request, response) => {
    const name = ServiceName.safeParse(request.params.name);
    const action = request.params.action;
    if (!name.success)
      return void response.status(404).json({ error: `no service ${String(request.params.name)}: ${SERVICE_NAMES.join(', ')}` });
    if (action !== 'stop' && action !== 'start')
      return void response.status(404).json({ error: `a service can be stopped or started, not "${String(action)}"` });
    if (!control)
      return void response.status(501).json({
        error: 'stopping and starting services needs `npm start` (its supervisor runs them); here they are run by something else',
      });
    try {
      await control[action](name.data);
      response.json({ service: name.data, state: control.states()[name.data] });
    } catch (error) {
      response.status(409).json({ error: error instanceof Error ? error.message : String(error) });
    }
  });

  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const url = `http://${LOOPBACK.has(options.host) ? 'localhost' : options.host}:${port}/`;
  const layOutSoon = setTimeout(() => void layOut(), LAYOUT_AFTER_MS).unref();
  return {
    url,
    async stop() {
      clearTimeout(layOutSoon);
      for (const stream of streams) stream.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
