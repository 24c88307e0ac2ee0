// What the broker the system talks to can do, where the topology depends on it. Read from the
// version the broker announces when an AMQP connection opens (connection.start's server
// properties): no management API needed, and every connection the system opens has it.
import type { ChannelModel } from 'amqplib';

/** The RabbitMQ version a connection's broker announced ('3.10.8', '4.3.6'), or undefined when it said none. */
export function brokerVersion(connection: ChannelModel): string | undefined {
  // amqplib keeps connection.start's server properties on the underlying connection; its types omit them.
  const underlying = (connection as unknown as { connection?: { serverProperties?: Record<string, unknown> } }).connection;
  const version = underlying?.serverProperties?.version;
  return typeof version === 'string' ? version : undefined;
}

/** Whether `version` is `major.minor` or later; an unknown or unreadable version is not. */
export function isAtLeast(version: string | undefined, major: number, minor: number): boolean {
  const [ownMajor, ownMinor] = (version ?? '').split('.').map(Number);
  if (ownMajor === undefined || ownMinor === undefined || Number.isNaN(ownMajor) || Number.isNaN(ownMinor)) return false;
  return ownMajor > major || (ownMajor === major && ownMinor >= minor);
}

/**
 * A quorum queue can hold a returned message itself before delivering it again (x-delayed-retry-*),
 * and counts only failed deliveries in x-delivery-count: RabbitMQ 4.3 and later.
 */
export function hasDelayedRetry(version: string | undefined): boolean {
  return isAtLeast(version, 4, 3);
}
