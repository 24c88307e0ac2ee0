// declareTopology: the whole topology, as data, ends up on the broker exactly as described, with
// every binding declared once between layers 2 and 3, on classic and on quorum queue types.
import { type Channel, connect } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { buildTopology, DEFAULT_TOPOLOGY_SETTINGS, EXCHANGES, QUEUES, retryQueueName } from '../../shared/topology/topology.ts';
import { referenceLayers } from '../../solutions/layers/index.ts';
import { declareTopology } from '../../solutions/runtime/declare-topology.ts';
import { type TestVhost, useTestVhost, useVhostChannel } from '../support/vhost.ts';

interface QueueInfo {
  name: string;
  durable: boolean;
  auto_delete: boolean;
  arguments: Record<string, unknown>;
}
interface ExchangeInfo {
  name: string;
  type: string;
  durable: boolean;
  arguments: Record<string, unknown>;
}
interface BindingInfo {
  source: string;
  destination: string;
  destination_type: 'queue' | 'exchange';
  routing_key: string;
  arguments: Record<string, unknown>;
}

const topology = buildTopology();
/** A binding's arguments, keys sorted, values typed (JSON): '' for none. */
const argumentsOf = (args: Record<string, unknown> | undefined) =>
  Object.keys(args ?? {}).length === 0 ? '' : ` ${JSON.stringify(Object.fromEntries(Object.entries(args ?? {}).sort()))}`;
const broker = useVhostChannel('declare-topology');
const classic = broker.vhost;
const quorum = useTestVhost('declare-topology-quorum');

const sorted = (items: string[]) => [...items].sort();
const list = <T>(vhost: TestVhost, what: string) => vhost.api.request<T[]>('GET', `/${what}/${encodeURIComponent(vhost.vhost)}`);

/** Wraps a real channel and records which bindings were asked for. */
function recordingBindings(channel: Channel): { channel: Channel; bound: string[] } {
  const bound: string[] = [];
  const proxy = new Proxy(channel, {
    get(target, property, receiver) {
      if (property === 'bindQueue' || property === 'bindExchange') {
        return (destination: string, source: string, pattern: string, args?: Record<string, unknown>) => {
          bound.push(`${source} -> ${destination} [${pattern}]${argumentsOf(args)}`);
          return target[property](destination, source, pattern, args);
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { channel: proxy, bound };
}

describe('declareTopology', () => {
  it('declares every binding exactly once between layers 2 and 3', async () => {
    const { channel, bound } = recordingBindings(await broker.connection.createChannel());
    await declareTopology(channel, topology, referenceLayers, 'classic');
    const expected = topology.bindings.map((b) => `${b.source} -> ${b.destination} [${b.pattern}]${argumentsOf(b.arguments)}`);
    expect(sorted(bound)).toEqual(sorted(expected));
    await channel.close();
  });

  it('leaves the broker with exactly the topology: queues, arguments, exchanges, bindings', async () => {
    const queues = await list<QueueInfo>(classic, 'queues');
    expect(sorted(queues.map((q) => q.name))).toEqual(sorted(topology.queues.map((q) => q.name)));
    expect(queues.find((q) => q.name === QUEUES.inventory)?.arguments).toEqual({
      'x-queue-type': 'classic',
      'x-dead-letter-exchange': EXCHANGES.retry,
      'x-dead-letter-routing-key': QUEUES.inventory,
      'x-max-priority': 5,
    });
    expect(queues.find((q) => q.name === retryQueueName(QUEUES.inventory))?.arguments).toEqual({
      'x-queue-type': 'classic',
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': QUEUES.inventory,
      'x-message-ttl': DEFAULT_TOPOLOGY_SETTINGS.retryDelayMs,
      'x-max-priority': 5,
    });
    expect(queues.find((q) => q.name === QUEUES.notificationSms)?.arguments).toEqual({
      'x-queue-type': 'classic',
      'x-dead-letter-exchange': EXCHANGES.deadLetter,
      'x-message-ttl': DEFAULT_TOPOLOGY_SETTINGS.notificationTtlMs,
    });

    const exchanges = (await list<ExchangeInfo>(classic, 'exchanges')).filter((e) => e.name !== '' && !e.name.startsWith('amq.'));
    expect(sorted(exchanges.map((e) => `${e.name}:${e.type}`))).toEqual(sorted(topology.exchanges.map((e) => `${e.name}:${e.type}`)));

    // The default exchange's implicit binding to every queue is not ours.
    const bindings = (await list<BindingInfo>(classic, 'bindings')).filter((b) => b.source !== '');
    // Arguments too: the headers exchange's binding is only right with them, as booleans.
    const actual = bindings.map(
      (b) => `${b.source} -> ${b.destination} (${b.destination_type}) [${b.routing_key}]${argumentsOf(b.arguments)}`,
    );
    const expected = topology.bindings.map(
      (b) => `${b.source} -> ${b.destination} (${b.destinationKind}) [${b.pattern}]${argumentsOf(b.arguments)}`,
    );
    expect(sorted(actual)).toEqual(sorted(expected));
  });

  it('can run again on a declared broker (every declaration is identical)', async () => {
    const channel = await broker.connection.createChannel();
    await expect(declareTopology(channel, topology, referenceLayers, 'classic')).resolves.toBeUndefined();
    await channel.close();
  });

  it('makes replicated queues without priority quorum queues when asked, and leaves the rest classic', async () => {
    const quorumTopology = buildTopology({ ...DEFAULT_TOPOLOGY_SETTINGS, queueType: 'quorum' });
    const quorumConnection = await connect(quorum.url);
    try {
      await declareTopology(await quorumConnection.createChannel(), quorumTopology, referenceLayers, 'quorum');
    } finally {
      await quorumConnection.close();
    }
    const types = Object.fromEntries((await list<QueueInfo>(quorum, 'queues')).map((q) => [q.name, q.arguments['x-queue-type']]));
    const expected = Object.fromEntries(quorumTopology.queues.map((q) => [q.name, q.replicate && !q.maxPriority ? 'quorum' : 'classic']));
    expect(types).toEqual(expected);
    expect(types[QUEUES.audit], '🚨 a replicated queue without priority should be quorum').toBe('quorum');
    expect(types[QUEUES.paymentRpc], '🚨 the RPC queue replicates too: a classic queue on a dead node stops whoever declares it').toBe(
      'quorum',
    );
  });
});
