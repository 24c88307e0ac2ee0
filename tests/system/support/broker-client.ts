// A plain AMQP client for tests, on a connection of its own to the test vhost: it publishes raw
// messages (good or bad) as any other publisher could, and watches queues of its own.
import amqp, { type ChannelModel, type ConfirmChannel, type ConsumeMessage, type Options } from 'amqplib';
import type { DomainEvent } from '../../../shared/messages/events.ts';
import { routingHeadersFor } from '../../../shared/topology/topology.ts';
import { codec } from '../../../solutions/layers/01-publish-consume.ts';
import { eventually } from '../../support/eventually.ts';

/** The messages one consumer received, in delivery order. */
export class MessageCollector {
  readonly messages: ConsumeMessage[] = [];

  constructor(readonly queue: string) {}

  withMessageId(messageId: string): ConsumeMessage[] {
    return this.messages.filter((message) => message.properties.messageId === messageId);
  }

  /** Waits until a message matching `accept` has arrived, and returns it. */
  waitFor(accept: (message: ConsumeMessage) => boolean, what: string, timeoutMs = 10_000): Promise<ConsumeMessage> {
    return eventually(() => this.messages.find(accept), { timeoutMs, what: `${what} in ${this.queue}` });
  }
}

/** A header of a message, as a string (AMQP headers are typed loosely). */
export function headerOf(message: ConsumeMessage, name: string): string | undefined {
  const value: unknown = message.properties.headers?.[name];
  if (value === undefined) return undefined;
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}

/** How often the broker dead-lettered this message out of `queue` because it was rejected (x-death). */
export function rejectionsFrom(message: ConsumeMessage, queue: string): number {
  const deaths = message.properties.headers?.['x-death'] ?? [];
  return deaths.filter((death) => death.queue === queue && death.reason === 'rejected').reduce((sum, death) => sum + death.count, 0);
}

export class TestBrokerClient {
  private constructor(
    private readonly connection: ChannelModel,
    private readonly channel: ConfirmChannel,
  ) {}

  static async connect(url: string): Promise<TestBrokerClient> {
    const connection = await amqp.connect(url, { clientProperties: { connection_name: `test-client-${process.pid}` } });
    // Without listeners a broker-side close (vhost deleted, connection closed) would crash the worker.
    connection.on('error', () => {});
    const channel = await connection.createConfirmChannel();
    channel.on('error', () => {});
    return new TestBrokerClient(connection, channel);
  }

  /** Publishes any body and waits for the broker's confirm. */
  async publish(exchange: string, routingKey: string, content: Buffer | string, options: Options.Publish = {}): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.channel.publish(exchange, routingKey, Buffer.from(content), { persistent: true, ...options }, (error: unknown) =>
        error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(),
      );
    });
  }

  /**
   * Publishes a well-formed event, encoded as the services encode theirs, with the routing headers
   * they add (express, text-worthy) unless `routingHeaders` says otherwise.
   */
  async publishEvent(
    exchange: string,
    routingKey: string,
    event: DomainEvent,
    routingHeaders: Record<string, unknown> = routingHeadersFor(event),
  ): Promise<void> {
    const { content, options } = codec.encode(event);
    await this.publish(exchange, routingKey, content, { ...options, headers: { ...options.headers, ...routingHeaders } });
  }

  /** Consumes an existing queue: every message it holds or receives from now on lands in the collector. */
  async collect(queue: string): Promise<MessageCollector> {
    const collector = new MessageCollector(queue);
    await this.channel.consume(
      queue,
      (message) => {
        if (message) collector.messages.push(message);
      },
      { noAck: true },
    );
    return collector;
  }

  /**
   * Takes the next `count` messages that reach `queue` away from it, as a broker that dropped them
   * would: once the consumer is registered this resolves with `taken`, which resolves with the
   * messages once they have arrived and the consumer is gone (prefetch keeps it from taking more).
   */
  async intercept(queue: string, count = 1): Promise<{ taken: Promise<ConsumeMessage[]> }> {
    const channel = await this.connection.createChannel();
    channel.on('error', () => {});
    await channel.prefetch(count);
    const messages: ConsumeMessage[] = [];
    let done: (messages: ConsumeMessage[]) => void = () => {};
    const taken = new Promise<ConsumeMessage[]>((resolve) => (done = resolve));
    // Our own tag: a queue that already holds messages delivers before consume-ok returns one.
    const consumerTag = `intercept-${crypto.randomUUID()}`;
    await channel.consume(
      queue,
      (message) => {
        if (!message || messages.length >= count) return;
        messages.push(message);
        if (messages.length < count) return;
        void (async () => {
          await channel.cancel(consumerTag);
          for (const each of messages) channel.ack(each);
          await channel.close();
          done(messages);
        })();
      },
      { consumerTag },
    );
    return { taken };
  }

  /** A private queue of our own bound to `exchange` with `pattern`: sees a copy of what is routed there. */
  async probe(exchange: string, pattern: string): Promise<MessageCollector> {
    const { queue } = await this.channel.assertQueue('', { exclusive: true, autoDelete: true });
    await this.channel.bindQueue(queue, exchange, pattern);
    return this.collect(queue);
  }

  /** How many messages wait in `queue`, ready (a consumer's unacked ones are not counted). */
  async messagesIn(queue: string): Promise<number> {
    return (await this.channel.checkQueue(queue)).messageCount;
  }

  async close(): Promise<void> {
    await this.connection.close().catch(() => {});
  }
}
