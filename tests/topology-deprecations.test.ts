// RabbitMQ 4.x deprecates transient non-exclusive queues (durable: false and not exclusive) and
// global QoS (prefetch shared by a whole channel); 4.3.6 denies global QoS by default and still
// permits transient non-exclusive queues (`rabbitmqctl list_deprecated_features`), which a later
// release may deny; 4.0 removed
// classic queue mirroring (x-ha-*), 4.3 classic queue storage v1 (x-queue-mode, x-queue-version).
// The system must not rely on them, so that it runs on 3.10 through 4.x unchanged: this test records
// what the reference layers declare (through a channel that only records calls, no broker) for the
// whole topology, both queue types, the RPC client and server, and the consumers, and checks it.
import fs from 'node:fs';
import path from 'node:path';
import type { ConfirmChannel } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { buildTopology } from '../shared/topology/topology.ts';
import type { QueueType } from '../shared/topology/types.ts';
import { composeLayers } from '../solutions/layers/compose.ts';
import { declareTopology } from '../solutions/runtime/declare-topology.ts';

interface Call {
  method: string;
  args: unknown[];
}

/** A (confirm) channel that answers every method with a plausible reply and records the call. */
function recordingChannel(): { channel: ConfirmChannel; calls: Call[] } {
  const calls: Call[] = [];
  let generated = 0;
  const channel = new Proxy({} as ConfirmChannel, {
    get(_target, property) {
      if (typeof property !== 'string' || property === 'then') return undefined;
      if (['on', 'once', 'off', 'removeListener', 'addListener', 'emit'].includes(property)) return () => channel;
      return (...args: unknown[]) => {
        calls.push({ method: property, args });
        if (property === 'assertQueue')
          return Promise.resolve({ queue: (args[0] as string) || `amq.gen-${++generated}`, messageCount: 0, consumerCount: 0 });
        if (property === 'assertExchange') return Promise.resolve({ exchange: args[0] });
        if (property === 'consume') return Promise.resolve({ consumerTag: `tag-${calls.length}` });
        if (['ack', 'nack', 'reject', 'publish', 'sendToQueue'].includes(property)) return true;
        return Promise.resolve({});
      };
    },
  });
  return { channel, calls };
}

interface QueueOptions {
  durable?: boolean;
  exclusive?: boolean;
  arguments?: Record<string, unknown>;
}

/** amqplib declares a queue durable unless told otherwise; transient and not exclusive is what 4.x deprecates. */
const transientNonExclusive = (options: QueueOptions | undefined) => options?.durable === false && !options.exclusive;
/** basic.qos with global = true: amqplib's prefetch(count, global). */
const globalQos = (call: Call) => call.method === 'prefetch' && call.args[1] === true;

describe('the declared topology uses nothing RabbitMQ 4.x deprecated or removed', () => {
  for (const queueType of ['classic', 'quorum'] as QueueType[]) {
    it(`declares every queue durable, none with arguments 4.x removed (QUEUE_TYPE=${queueType})`, async () => {
      const { channel, calls } = recordingChannel();
      const topology = buildTopology();
      await declareTopology(channel, topology, composeLayers(), queueType);
      const queues = calls.filter((call) => call.method === 'assertQueue');
      expect(queues.map((call) => call.args[0])).toEqual(topology.queues.map((queue) => queue.name));
      for (const { args } of queues) {
        const options = args[1] as QueueOptions | undefined;
        expect(transientNonExclusive(options), `${String(args[0])} is transient and not exclusive`).toBe(false);
        expect(options?.durable, String(args[0])).toBe(true);
        // Mirroring (gone in 4.0), classic queue storage v1 (gone in 4.3), the master locator (refused from 4.3).
        const removed = (key: string) =>
          key.startsWith('x-ha-') || ['x-queue-mode', 'x-queue-version', 'x-queue-master-locator'].includes(key);
        expect(Object.keys(options?.arguments ?? {}).filter(removed), String(args[0])).toEqual([]);
        expect(['classic', 'quorum']).toContain(options?.arguments?.['x-queue-type']);
      }
      const exchanges = calls.filter((call) => call.method === 'assertExchange');
      expect(exchanges.map((call) => call.args[0]).sort()).toEqual(topology.exchanges.map((exchange) => exchange.name).sort());
      expect(calls.filter(globalQos)).toEqual([]);
    });
  }

  it("the RPC client's reply queue is exclusive, and the RPC server and consumers set prefetch per consumer", async () => {
    const layers = composeLayers();
    const { channel, calls } = recordingChannel();
    const client = await layers.rpc.createClient(channel, { timeoutMs: 1000 });
    await layers.rpc.serve(channel, 'payment.rpc.queue', async () => null);
    await layers.acks.consume(channel, 'order.queue', async () => {}, { prefetch: 10, onFailure: async () => {}, onCancelled: () => {} });
    await client.close();
    for (const { args } of calls.filter((call) => call.method === 'assertQueue')) {
      expect(
        transientNonExclusive(args[1] as QueueOptions),
        `${String(args[0]) || 'a server-named queue'} is transient and not exclusive`,
      ).toBe(false);
    }
    expect(calls.some((call) => call.method === 'prefetch')).toBe(true);
    expect(calls.filter(globalQos)).toEqual([]);
  });

  it('no source of the system passes global = true to prefetch or declares a queue durable: false and not exclusive', () => {
    const sources = ['shared', 'solutions'].flatMap((dir) =>
      (fs.readdirSync(dir, { recursive: true }) as string[]).map((file) => path.join(dir, file)),
    );
    const offenders = sources
      .filter((file) => file.endsWith('.ts'))
      .flatMap((file) =>
        fs
          .readFileSync(file, 'utf8')
          .split('\n')
          .map((line, index) => ({ where: `${file}:${index + 1}`, line }))
          .filter(
            ({ line }) =>
              !line.trim().startsWith('//') &&
              (/\.prefetch\([^)]*,\s*true\s*\)/.test(line) || (/durable:\s*false/.test(line) && !/exclusive:\s*true/.test(line))),
          ),
      )
      .map(({ where, line }) => `${where}: ${line.trim()}`);
    expect(offenders).toEqual([]);
  });
});
