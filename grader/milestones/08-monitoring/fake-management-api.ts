// A small fake of the RabbitMQ management HTTP API, for milestone 8's checks: it answers with numbers
// the check chose (no sampling, no waiting, rates that are not 0), and records what the layer asked
// for, so a check can say the cause ("you asked /api/queues///order.queue", "you sent user guest",
// "you asked once for two calls: a cache") instead of a symptom. Served by node:http on 127.0.0.1,
// port 0; like the real API it needs basic auth, answers 401 to wrong credentials and 404 (as JSON)
// to an unknown vhost, queue or path. A vhost can be made silent: a request for it is read and never
// answered, as by an API behind a hung proxy.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ManagementTarget } from '../../../shared/layers/08-monitoring.ts';

/** One queue as the API answers it (only name is always there; vhost is filled in). */
export interface FakeQueue {
  name: string;
  [field: string]: unknown;
}

export interface FakeRequest {
  method: string;
  /** The path as it reached the server, before decoding (what the layer built). */
  rawPath: string;
  /** The user of the basic auth header, if any. */
  user?: string;
  /** 0 when the fake never answered it (a silent vhost). */
  status: number;
}

export interface FakeManagementApi {
  /** http://127.0.0.1:<port>, plus the path prefix if the fake has one. */
  baseUrl: string;
  username: string;
  password: string;
  /** A target on one of the fake's vhosts, with the right credentials. */
  target(vhost: string, overrides?: Partial<ManagementTarget>): ManagementTarget;
  /** Replaces a vhost's queues (a vhost exists once it has been set, even with no queues). */
  setQueues(vhost: string, queues: FakeQueue[]): void;
  /** Makes a vhost silent: every request for it (its queues, one of its queues) is never answered. */
  silence(vhost: string): void;
  readonly requests: FakeRequest[];
  /** Requests since `from` (an index into requests), one line each, for a failure message. */
  describeRequests(from?: number): string;
  close(): Promise<void>;
}

const NOT_FOUND = { error: 'Object Not Found', reason: 'Not Found' };
const NOT_AUTHORISED = { error: 'not_authorised', reason: 'Login failed' };

/** A settings-only entry, as the broker answers for a queue it has not sampled yet. */
export function unsampled(name: string): FakeQueue {
  return {
    name,
    durable: true,
    auto_delete: false,
    exclusive: false,
    arguments: {},
    node: 'rabbit@fake',
    type: 'classic',
    state: 'running',
  };
}

export async function startFakeManagementApi(
  options: { prefix?: string; username?: string; password?: string } = {},
): Promise<FakeManagementApi> {
  const prefix = options.prefix ?? '';
  const username = options.username ?? 'monitor';
  const password = options.password ?? 's3cret:pw';
  const vhosts = new Map<string, FakeQueue[]>();
  const silent = new Set<string>();
  const requests: FakeRequest[] = [];

  const withVhost = (vhost: string, queue: FakeQueue) => ({ vhost, ...queue });
  /** A request for a silent vhost: /api/queues/{vhost}[/...]. */
  const unanswered = (rawPath: string) => {
    const [collection, vhost] = rawPath.slice(`${prefix}/api/`.length).split('/');
    try {
      return (
        rawPath.startsWith(`${prefix}/api/`) && collection === 'queues' && vhost !== undefined && silent.has(decodeURIComponent(vhost))
      );
    } catch {
      return false;
    }
  };
  const route = (rawPath: string): { status: number; body: unknown } => {
    if (!rawPath.startsWith(`${prefix}/api/`)) return { status: 404, body: NOT_FOUND };
    let segments: string[];
    try {
      segments = rawPath.slice(`${prefix}/api/`.length).split('/').map(decodeURIComponent);
    } catch {
      return { status: 400, body: { error: 'bad_request', reason: 'malformed percent-encoding' } };
    }
    const [collection, vhost, queue, ...rest] = segments;
    if (collection !== 'queues' || rest.length > 0) return { status: 404, body: NOT_FOUND };
    if (vhost === undefined || (vhost === '' && queue === undefined)) {
      return { status: 200, body: [...vhosts.entries()].flatMap(([name, queues]) => queues.map((q) => withVhost(name, q))) };
    }
    const queues = vhosts.get(vhost);
    if (!queues) return { status: 404, body: NOT_FOUND };
    if (queue === undefined) return { status: 200, body: queues.map((q) => withVhost(vhost, q)) };
    const found = queues.find((q) => q.name === queue);
    return found ? { status: 200, body: withVhost(vhost, found) } : { status: 404, body: NOT_FOUND };
  };

  const server = http.createServer((request, response) => {
    const rawPath = (request.url ?? '/').split('?')[0] ?? '/';
    const [scheme, encoded] = (request.headers.authorization ?? '').split(' ');
    const credentials = scheme?.toLowerCase() === 'basic' && encoded ? Buffer.from(encoded, 'base64').toString('utf8') : undefined;
    const user = credentials?.slice(0, credentials.includes(':') ? credentials.indexOf(':') : undefined);
    const authorised = credentials === `${username}:${password}`;
    if (authorised && unanswered(rawPath)) {
      requests.push({ method: request.method ?? 'GET', rawPath, user, status: 0 });
      return; // the socket stays open until the fake closes
    }
    const { status, body } = !authorised
      ? { status: 401, body: NOT_AUTHORISED }
      : request.method !== 'GET'
        ? { status: 405, body: { error: 'method_not_allowed' } }
        : route(rawPath);
    requests.push({ method: request.method ?? 'GET', rawPath, user, status });
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json' };
    if (status === 401) headers['www-authenticate'] = 'Basic realm="RabbitMQ Management"';
    response.writeHead(status, headers).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}${prefix}`;

  return {
    baseUrl,
    username,
    password,
    target: (vhost, overrides = {}) => ({ baseUrl, username, password, vhost, ...overrides }),
    setQueues: (vhost, queues) => void vhosts.set(vhost, queues),
    silence: (vhost) => void silent.add(vhost),
    requests,
    describeRequests(from = 0) {
      const lines = requests
        .slice(from)
        .map(
          (r) =>
            `${r.method} ${r.rawPath} → ${r.status === 0 ? 'no answer' : r.status}${r.status === 401 ? ` (user ${JSON.stringify(r.user ?? null)})` : ''}`,
        );
      return lines.length === 0
        ? 'no request at all'
        : lines.slice(0, 6).join('; ') + (lines.length > 6 ? `; ... (${lines.length} requests)` : '');
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
