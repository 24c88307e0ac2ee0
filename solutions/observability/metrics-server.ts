// GET /metrics for one service's registry, on a port of its own (METRICS_PORT and the next five for
// npm start's six processes; 0: any free port). Anything else is a 404.
import http from 'node:http';
import type { Logger } from '../../shared/log.ts';
import type { Registry } from 'prom-client';

export interface MetricsServer {
  port: number;
  stop(): Promise<void>;
}

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export async function startMetricsServer(registry: Registry, port: number, host: string, log: Logger): Promise<MetricsServer> {
  const server = http.createServer((request, response) => {
    if (request.method !== 'GET' || (request.url ?? '').split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics here\n');
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(error)}\n`),
    );
  });
  try {
    await listen(server, port, host);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw error;
    // Another process has it (a second `npm run service` of the same service): any free port will do.
    log.warn(`metrics port ${port} is taken; serving /metrics on a free port instead`);
    await listen(server, 0, host);
  }
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  log.info(`metrics on http://localhost:${actual}/metrics`);
  return {
    port: actual,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
