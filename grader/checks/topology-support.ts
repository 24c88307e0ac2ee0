// Helpers the routing and fanout checks (milestones 2 and 3) share: declaring the topology's queues,
// publishing probe messages and finding out which queues each one reached.
import type { Channel, ConfirmChannel } from 'amqplib';
import type { Layers } from '../../shared/layers/index.ts';
import type { ServiceName } from '../../shared/messages/events.ts';
import { QUEUES, SUBSCRIPTIONS } from '../../shared/topology/topology.ts';
import type { QueueType, Topology } from '../../shared/topology/types.ts';
import type { ServiceRuntime } from '../../solutions/runtime/service-runtime.ts';
import type { CheckContext } from '../check.ts';

/**
 * Declares every queue of the topology, as the runtime does before layer 2 runs. `durable` declares
 * them exactly as the services do; otherwise they are transient and plain (no TTL, so retry queues
 * keep what they get), which the broker creates several times faster: a check stays quick.
 */
export async function declareQueues(
  channel: Channel,
  topology: Topology,
  reference: Layers,
  durable: boolean,
  queueType: QueueType,
): Promise<void> {
  for (const spec of topology.queues) {
    if (!durable) {
      await channel.assertQueue(spec.name, { durable: false });
      continue;
    }
    const options = reference.durability.queueOptions(spec, queueType);
    await channel.assertQueue(spec.name, {
      ...options,
      arguments: { ...options.arguments, ...reference.deadLetters.queueArguments(spec), ...reference.scaling.queueArguments(spec) },
    });
  }
}

/** Publishes with confirms: once confirmed, the broker has routed the message. */
export async function publishAll(
  channel: ConfirmChannel,
  messages: Array<{ exchange: string; routingKey: string; id: string; headers?: Record<string, unknown> }>,
): Promise<void> {
  for (const { exchange, routingKey, id, headers } of messages) {
    channel.publish(exchange, routingKey, Buffer.from('{}'), { messageId: id, type: routingKey, contentType: 'application/json', headers });
  }
  await channel.waitForConfirms();
}

/** Empties every queue of the topology and says which queues each message id reached. */
export async function whereDidTheyGo(channel: Channel, topology: Topology): Promise<Map<string, string[]>> {
  const reached = new Map<string, string[]>();
  for (const { name } of topology.queues) {
    for (let message = await channel.get(name, { noAck: true }); message; message = await channel.get(name, { noAck: true })) {
      const id = String(message.properties.messageId);
      reached.set(id, [...(reached.get(id) ?? []), name].sort());
    }
  }
  return reached;
}

/** The service queues that must receive each event type from order.exchange (from SUBSCRIPTIONS). */
export function subscribersOf(type: string): string[] {
  return Object.entries(SUBSCRIPTIONS)
    .filter(([, types]) => (types as string[]).includes(type))
    .map(([service]) => QUEUES[service as keyof typeof SUBSCRIPTIONS])
    .sort();
}

/**
 * Starts each service as a system of its own, all at once: each declares the topology on start, and
 * in parallel that takes the time of one. (The services share nothing but the broker.)
 */
export async function startServices(context: CheckContext, services: ServiceName[]): Promise<Record<ServiceName, ServiceRuntime>> {
  const systems = await Promise.all(services.map((service) => context.startSystem({ services: [service] })));
  // Stop them together too (each stop may wait for its outbox); the context's own stops then find them stopped.
  context.onCleanup(() => Promise.all(systems.map((system) => system.stop())).then(() => {}));
  return Object.fromEntries(systems.map((system, i) => [services[i], system.runtime(services[i] as ServiceName)])) as Record<
    ServiceName,
    ServiceRuntime
  >;
}
