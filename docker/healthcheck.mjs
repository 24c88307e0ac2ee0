// The image's HEALTHCHECK (Dockerfile): is this container's service up and connected to RabbitMQ?
//   order:  its HTTP API's GET /health says the broker is connected;
//   others: the broker's management API lists a connection of this service from this container
//           (the runtime names its connections `<service>-<pid>`).
// Plain JavaScript, no tsx: it runs every few seconds and must be quick. Exit 0 healthy, 1 not.
import os from 'node:os';

const service = process.env.SERVICE ?? '';
const timeout = AbortSignal.timeout(4000);

async function healthy() {
  if (service === 'order') {
    const response = await fetch(`http://127.0.0.1:${process.env.HTTP_PORT ?? '8080'}/health`, { signal: timeout });
    return response.ok;
  }
  const amqp = new URL(process.env.RABBITMQ_URL ?? 'amqp://guest:guest@rabbitmq:5672');
  const base = process.env.RABBITMQ_MANAGEMENT_URL ?? `http://${amqp.hostname}:15672`;
  const auth = `Basic ${Buffer.from(`${decodeURIComponent(amqp.username || 'guest')}:${decodeURIComponent(amqp.password || 'guest')}`).toString('base64')}`;
  const response = await fetch(`${base}/api/connections?columns=name,peer_host,client_properties`, {
    headers: { authorization: auth },
    signal: timeout,
  });
  if (!response.ok) return false;
  const mine = new Set(
    Object.values(os.networkInterfaces())
      .flat()
      .map((address) => address?.address.replace(/^::ffff:/, '')),
  );
  const connections = await response.json();
  return connections.some(
    (c) =>
      String(c.client_properties?.connection_name ?? '').startsWith(`${service}-`) && mine.has(String(c.peer_host).replace(/^::ffff:/, '')),
  );
}

healthy().then(
  (ok) => process.exit(ok ? 0 : 1),
  () => process.exit(1),
);
