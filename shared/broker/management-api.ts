// A small client for the RabbitMQ management HTTP API, for administration: vhosts, permissions,
// connections. (Reading queue statistics is layer 8's job: see shared/layers/08-monitoring.ts.)
// Over node:http rather than fetch: fetch loads undici on first use, about 0.1 to 0.25 s of CPU in
// every process that asks (the grade command and its grading child, before the first check).
import http from 'node:http';
import https from 'node:https';

import { EnvironmentError } from '../cli/errors.ts';

export interface ManagementCredentials {
  baseUrl: string;
  username: string;
  password: string;
}

/** The management API refused or failed a request: the environment's fault (exit 3; a check that meets it could not judge). */
export class ManagementApiError extends EnvironmentError {
  constructor(
    readonly status: number,
    readonly path: string,
    body: string,
  ) {
    super(`management API ${path} answered ${status}${body ? `: ${body.slice(0, 200)}` : ''}`);
    this.name = 'ManagementApiError';
  }
}

export interface ConnectionInfo {
  name: string;
  vhost: string;
  user: string;
  client_properties?: { connection_name?: string };
}

export class ManagementApi {
  constructor(readonly credentials: ManagementCredentials) {}

  async request<T = unknown>(method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<T> {
    const { baseUrl, username, password } = this.credentials;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const { status, text } = await httpRequest(new URL(`/api${path}`, baseUrl), {
      method,
      headers: {
        authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
        'content-type': 'application/json',
        ...(payload === undefined ? {} : { 'content-length': String(Buffer.byteLength(payload)) }),
        ...extraHeaders,
      },
      ...(payload === undefined ? {} : { body: payload }),
      timeoutMs: 10_000,
    });
    if (status < 200 || status > 299) throw new ManagementApiError(status, path, text);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  overview(): Promise<{ rabbitmq_version: string; management_version: string }> {
    return this.request('GET', '/overview');
  }

  /** Creates the vhost and gives our user full permissions on it. */
  async createVhost(vhost: string): Promise<void> {
    const name = encodeURIComponent(vhost);
    await this.request('PUT', `/vhosts/${name}`, { description: 'created by the order workshop' });
    const user = encodeURIComponent(this.credentials.username);
    await this.request('PUT', `/permissions/${name}/${user}`, { configure: '.*', write: '.*', read: '.*' });
  }

  /** Deletes the vhost and everything in it; a vhost that is already gone is fine. */
  async deleteVhost(vhost: string): Promise<void> {
    try {
      await this.request('DELETE', `/vhosts/${encodeURIComponent(vhost)}`);
    } catch (error) {
      if (!(error instanceof ManagementApiError && error.status === 404)) throw error;
    }
  }

  listConnections(vhost: string): Promise<ConnectionInfo[]> {
    return this.request('GET', `/vhosts/${encodeURIComponent(vhost)}/connections`);
  }

  /** Closes a client connection from the broker side, as an operator or a failing node would. */
  async closeConnection(name: string, reason = 'closed through the management API'): Promise<void> {
    // The broker tells the client this reason in the connection.close frame.
    await this.request('DELETE', `/connections/${encodeURIComponent(name)}`, undefined, { 'x-reason': reason }).catch((error: unknown) => {
      if (!(error instanceof ManagementApiError && error.status === 404)) throw error;
    });
  }
}

/** One HTTP request, its whole body read as text; rejects on a network error or after timeoutMs. */
export function httpRequest(
  url: URL,
  options: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs: number },
): Promise<{ status: number; text: string }> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.request(
      url,
      { method: options.method ?? 'GET', headers: options.headers ?? {}, signal: AbortSignal.timeout(options.timeoutMs) },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}
