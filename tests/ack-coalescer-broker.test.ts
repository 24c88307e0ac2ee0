// The ack coalescer (solutions/runtime/ack-coalescer.ts) on a real broker: what the broker ends up
// settling, not which frames were written (tests/ack-coalescer.test.ts checks those on a stand-in).
// A held ack above a delivery still in hand must not settle it: once the channel closes, the broker
// requeues exactly the deliveries that were never acked.
import type { ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { coalesceAcks } from '../solutions/runtime/ack-coalescer.ts';
import { eventually } from './support/eventually.ts';
import { useVhostChannel } from './support/vhost.ts';

const broker = useVhostChannel('ack-coalescer');

async function deliveriesOf(queue: string, count: number) {
  const channel = coalesceAcks(await broker.connection.createConfirmChannel());
  await channel.prefetch(count);
  const delivered: ConsumeMessage[] = [];
  await channel.consume(queue, (message) => message && delivered.push(message));
  await eventually(() => delivered.length === count, { what: `${count} deliveries` });
  return { channel, delivered };
}

async function queueOf(bodies: string[]): Promise<string> {
  const { queue } = await broker.channel.assertQueue('', { exclusive: true });
  for (const body of bodies) broker.channel.sendToQueue(queue, Buffer.from(body));
  await broker.channel.waitForConfirms();
  return queue;
}

describe('acks coalesced on a real broker', () => {
  it('acks of a run of settled deliveries settle all of them, and nothing more', async () => {
    const queue = await queueOf(['a', 'b', 'c', 'd']);
    const { channel, delivered } = await deliveriesOf(queue, 4);
    for (const message of delivered.slice(0, 3)) channel.ack(message); // one multiple ack up to c
    await channel.close(); // d was never acked: the broker requeues it alone
    const { messageCount } = await broker.channel.checkQueue(queue);
    expect(messageCount).toBe(1);
    const left = await broker.channel.get(queue, { noAck: true });
    expect(left && left.content.toString()).toBe('d');
  });

  it('an ack above a delivery still in hand does not settle that delivery', async () => {
    const queue = await queueOf(['a', 'b', 'c']);
    const { channel, delivered } = await deliveriesOf(queue, 3);
    channel.ack(delivered[2]!); // c is done while a and b are still being handled
    channel.nack(delivered[1]!, false, false); // b fails and is dropped
    await channel.close(); // a was never settled
    const requeued: string[] = [];
    await eventually(
      async () => {
        const message = await broker.channel.get(queue, { noAck: true });
        if (message) requeued.push(message.content.toString());
        return !message && requeued.length > 0;
      },
      { what: 'the requeued deliveries' },
    );
    expect(requeued).toEqual(['a']);
  });
});
