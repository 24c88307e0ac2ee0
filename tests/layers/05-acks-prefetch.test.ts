// Layer 5: manual acks on a real broker. Prefetch bounds what a consumer holds, a failing handler
// does not stop the consumer, a message whose channel dies mid-work comes back, stop() lets the
// work in hand finish, and processOnce turns a duplicate delivery into a no-op.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ProcessedMessages } from '../../shared/layers/05-acks-prefetch.ts';
import { acks } from '../../solutions/layers/05-acks-prefetch.ts';
import { eventually } from '../support/eventually.ts';
import { useVhostChannel } from '../support/vhost.ts';
// The helpers milestone 5's checks use (the grader's support is below tests in the floors).
import { drop, gate, queueWith as queueWithBodies, ready as readyIn } from '../../grader/milestones/05-acks-prefetch/support.ts';

const broker = useVhostChannel('layer-05');

/** A fresh queue holding the given messages (body = message id). */
const queueWith = (bodies: string[]) => queueWithBodies(broker.channel, `acks.${randomUUID().slice(0, 8)}`, bodies);
const ready = (queue: string) => readyIn(broker.channel, queue);

class MemoryProcessedMessages implements ProcessedMessages {
  ids = new Set<string>();
  transaction<T>(work: () => T): T {
    const before = new Set(this.ids);
    try {
      return work();
    } catch (error) {
      this.ids = before; // roll back
      throw error;
    }
  }
  has(messageId: string) {
    return this.ids.has(messageId);
  }
  record(messageId: string) {
    this.ids.add(messageId);
  }
}

describe('acks.consume', () => {
  it('holds exactly `prefetch` unacknowledged deliveries while the handler blocks', async () => {
    const queue = await queueWith(Array.from({ length: 10 }, (_, i) => `m${i}`));
    const worker = await broker.connection.createConfirmChannel();
    const release = gate();
    let running = 0;
    let mostAtOnce = 0;
    let done = 0;
    const consumer = await acks.consume(
      worker,
      queue,
      async () => {
        mostAtOnce = Math.max(mostAtOnce, ++running);
        await release.opened;
        running--;
        done++;
      },
      { prefetch: 3, onFailure: drop },
    );

    await eventually(() => consumer.inFlight() === 3, { what: '3 deliveries in flight' });
    expect(await ready(queue), '🚨 with prefetch 3 the broker should keep the other 7 back').toBe(7);

    release.open();
    await eventually(() => done === 10, { what: 'all 10 messages handled' });
    expect(mostAtOnce).toBe(3);
    await consumer.stop();
    await worker.close(); // anything left unacked would now return to the queue
    expect(await ready(queue)).toBe(0);
  });

  it('hands a failure to onFailure and keeps consuming', async () => {
    const queue = await queueWith(['ok-1', 'bad', 'ok-2']);
    const worker = await broker.connection.createConfirmChannel();
    const handled: string[] = [];
    const failures: string[] = [];
    const consumer = await acks.consume(
      worker,
      queue,
      async (message) => {
        if (message.content.toString() === 'bad') throw new Error('cannot handle bad');
        handled.push(message.content.toString());
      },
      {
        prefetch: 1,
        onFailure: async (ch, message, error) => {
          failures.push(`${message.content.toString()}: ${(error as Error).message}`);
          ch.nack(message, false, false);
        },
      },
    );

    await eventually(() => handled.length === 2, { what: 'both good messages handled' });
    expect(handled).toEqual(['ok-1', 'ok-2']);
    expect(failures).toEqual(['bad: cannot handle bad']);
    await consumer.stop();
    await worker.close();
    expect(await ready(queue)).toBe(0);
  });

  it('survives its channel closing mid-handling; the message is redelivered on a new channel', async () => {
    const queue = await queueWith(['precious']);
    const first = await broker.connection.createConfirmChannel();
    const started = gate();
    const release = gate();
    const failures: unknown[] = [];
    const consumer = await acks.consume(
      first,
      queue,
      async () => {
        started.open();
        await release.opened;
      },
      { prefetch: 1, onFailure: async (_ch, _message, error) => void failures.push(error) },
    );

    await started.opened;
    await first.close(); // the broker requeues the unacked message
    release.open(); // the handler now succeeds, and its ack meets a closed channel: must not throw
    await consumer.stop(); // tolerates the closed channel, waits for the handler
    expect(failures).toEqual([]);

    const second = await broker.connection.createConfirmChannel();
    const redelivered: boolean[] = [];
    const again = await acks.consume(second, queue, async (message) => void redelivered.push(message.fields.redelivered), {
      prefetch: 1,
      onFailure: drop,
    });
    await eventually(() => redelivered.length === 1, { what: 'the message redelivered' });
    expect(redelivered).toEqual([true]);
    await again.stop();
    await second.close();
  });

  it('stop() cancels the consumer, then waits for the in-flight handler and its ack', async () => {
    const queue = await queueWith(['slow']);
    const worker = await broker.connection.createConfirmChannel();
    const started = gate();
    const release = gate();
    const consumer = await acks.consume(
      worker,
      queue,
      async () => {
        started.open();
        await release.opened;
      },
      { prefetch: 1, onFailure: drop },
    );
    await started.opened;

    let stopped = false;
    const stopping = consumer.stop().then(() => (stopped = true));
    await eventually(async () => (await broker.channel.checkQueue(queue)).consumerCount === 0, { what: 'the consumer cancelled' });
    expect(stopped, '🚨 stop() resolved while a handler was still running').toBe(false);
    expect(consumer.inFlight()).toBe(1);

    release.open();
    await stopping;
    expect(consumer.inFlight()).toBe(0);
    await worker.close(); // had stop() returned before the ack, the message would come back now
    expect(await ready(queue)).toBe(0);
  });

  it('calls onCancelled when the broker cancels the consumer', async () => {
    const queue = await queueWith([]);
    const worker = await broker.connection.createConfirmChannel();
    let cancelled = false;
    const consumer = await acks.consume(worker, queue, async () => {}, {
      prefetch: 1,
      onFailure: drop,
      onCancelled: () => (cancelled = true),
    });
    await broker.channel.deleteQueue(queue);
    await eventually(() => cancelled, { what: 'onCancelled' });
    await consumer.stop();
    await worker.close();
  });
});

describe('acks.processOnce', () => {
  it('applies a duplicate delivery once, and acks both', async () => {
    const queue = await queueWith(['order-9', 'order-9']); // the same message id twice, as after a redelivery
    const worker = await broker.connection.createConfirmChannel();
    const store = new MemoryProcessedMessages();
    let stock = 10;
    const outcomes: boolean[] = [];
    const consumer = await acks.consume(
      worker,
      queue,
      async (message) => {
        outcomes.push(acks.processOnce(store, message.properties.messageId, () => void (stock -= 1)));
      },
      { prefetch: 1, onFailure: drop },
    );

    await eventually(() => outcomes.length === 2, { what: 'both deliveries handled' });
    expect(outcomes).toEqual([true, false]);
    expect(stock).toBe(9);
    await consumer.stop();
    await worker.close();
    expect(await ready(queue)).toBe(0);
  });

  it('records nothing when the work fails, so a retry can apply it', () => {
    const store = new MemoryProcessedMessages();
    expect(() =>
      acks.processOnce(store, 'm1', () => {
        throw new Error('disk full');
      }),
    ).toThrow('disk full');
    expect(store.has('m1')).toBe(false);
    let applied = 0;
    expect(acks.processOnce(store, 'm1', () => void applied++)).toBe(true);
    expect(acks.processOnce(store, 'm1', () => void applied++)).toBe(false);
    expect(applied).toBe(1);
  });
});
