// What `npm start` prints once every service is ready: what to try next.
import type { ServiceName } from '../../shared/messages/events.ts';

export interface BannerFacts {
  services: readonly ServiceName[];
  httpPort: number;
  management: { baseUrl: string; username: string; reachable: boolean };
  /** The live dashboard's address, when it runs. */
  dashboardUrl?: string;
  /** Where each service serves GET /metrics (Prometheus text format). */
  metricsPorts?: Partial<Record<ServiceName, number>>;
  /** BROKER_USERS_FILE, when each service logs in as its own broker user. */
  brokerUsersFile?: string;
}

export function banner({ services, httpPort, management, dashboardUrl, metricsPorts = {}, brokerUsersFile }: BannerFacts): string {
  const api = `http://localhost:${httpPort}`;
  const lines = ['', `  Order system running: ${services.join(', ')}`, ''];
  if (dashboardUrl) lines.push(`  Dashboard (live orders, queues, stop and start services): ${dashboardUrl}`, '');
  if (services.includes('order')) {
    lines.push(
      '  Place an order:',
      `    curl -X POST ${api}/orders -H "Content-Type: application/json" -d '{"orderId": "123", "user": "gayal", "items": ["item1", "item2"]}'`,
      '  Follow it:',
      `    curl ${api}/orders/123`,
    );
  } else {
    lines.push('  The order service is not running (see --services), so there is no HTTP API.');
  }
  lines.push(
    management.reachable
      ? `  RabbitMQ management UI: ${management.baseUrl}  (log in with the broker's credentials, user "${management.username}")`
      : `  RabbitMQ management UI: not answering at ${management.baseUrl}; enable it with: rabbitmq-plugins enable rabbitmq_management rabbitmq_prometheus`,
    '',
    '  Metrics (Prometheus text format):',
    ...services.map(
      (service) => `    ${service.padEnd(13)}${metricsPorts[service] ? `http://localhost:${metricsPorts[service]}/metrics` : 'not served'}`,
    ),
    `    ${'RabbitMQ'.padEnd(13)}http://${new URL(management.baseUrl).hostname}:15692/metrics  (the broker's own, when rabbitmq_prometheus is on; per queue: /metrics/per-object)`,
    '',
    brokerUsersFile
      ? `  Broker identity: each service logs in as its own least-privileged user (${brokerUsersFile})`
      : `  Broker identity: every service shares the user "${management.username}", with every right on the vhost. For one user each, with only its own rights: npm run broker:setup`,
    '',
    '  Ctrl-C stops everything.',
    '',
  );
  return `${lines.join('\n')}\n`;
}
