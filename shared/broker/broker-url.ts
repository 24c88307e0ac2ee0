// Small helpers for AMQP URLs: which vhost a URL points at, the same URL on another vhost or with
// other credentials, and RABBITMQ_URL's list form (the nodes of a cluster, tried in turn).

/**
 * RABBITMQ_URL may name several nodes of one cluster, comma-separated:
 * `amqp://u:p@node1:5672/vh,amqp://u:p@node2:5672/vh`. The first is used first; the others are
 * where a service fails over to when its node stops answering.
 */
export function splitBrokerUrls(value: string): string[] {
  return value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

export function vhostOf(amqpUrl: string): string {
  const path = new URL(amqpUrl).pathname;
  return path === '' || path === '/' ? '/' : decodeURIComponent(path.slice(1));
}

export function withVhost(amqpUrl: string, vhost: string): string {
  const url = new URL(amqpUrl);
  url.pathname = `/${encodeURIComponent(vhost)}`;
  return url.toString();
}

export function withCredentials(amqpUrl: string, username: string, password: string): string {
  const url = new URL(amqpUrl);
  url.username = encodeURIComponent(username);
  url.password = encodeURIComponent(password);
  return url.toString();
}

export function credentialsOf(amqpUrl: string): { username: string; password: string } {
  const url = new URL(amqpUrl);
  return {
    username: decodeURIComponent(url.username) || 'guest',
    password: decodeURIComponent(url.password) || 'guest',
  };
}

/** The URL with the password hidden, for logs. */
export function redact(amqpUrl: string): string {
  const url = new URL(amqpUrl);
  if (url.password) url.password = '***';
  return url.toString();
}
