// Small helpers for AMQP URLs: which vhost a URL points at, and the same URL on another vhost.

export function vhostOf(amqpUrl: string): string {
  const path = new URL(amqpUrl).pathname;
  return path === '' || path === '/' ? '/' : decodeURIComponent(path.slice(1));
}

export function withVhost(amqpUrl: string, vhost: string): string {
  const url = new URL(amqpUrl);
  url.pathname = `/${encodeURIComponent(vhost)}`;
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
