// The topology settings completed with what the connected broker can do: where the topology depends
// on the broker (a quorum queue's delayed retry, RabbitMQ 4.3+), it is read from the connection.
import type { ChannelModel } from 'amqplib';
import { brokerVersion, hasDelayedRetry } from '../../shared/broker/broker-features.ts';
import type { TopologySettings } from '../../shared/topology/types.ts';

/** `settings` with delayedRetry set from the connection's broker, unless the settings already say. */
export function withBrokerFeatures(settings: TopologySettings, connection: ChannelModel): TopologySettings {
  return { ...settings, delayedRetry: settings.delayedRetry ?? hasDelayedRetry(brokerVersion(connection)) };
}
