// The channel the runtime hands to layer 5 (solutions/runtime/ack-coalescer.ts): acks made in one
// tick leave as one multiple ack, but only up to the first delivery still unsettled; a nack, a
// reject or a close sends the held acks first. Checked against a recording stand-in for amqplib's
// channel: what matters is the frames it would send.
import type { ConfirmChannel, ConsumeMessage, Message } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { coalesceAcks } from '../solutions/runtime/ack-coalescer.ts';

type Frame = string;

function recordingChannel() {
  const frames: Frame[] = [];
  let deliver: (message: ConsumeMessage | null) => void = () => {};
  const channel = {
    consume: async (_queue: string, onMessage: (message: ConsumeMessage | null) => void) => {
      deliver = onMessage;
      return { consumerTag: 'test' };
    },
    ack: (message: Message, allUpTo?: boolean) => frames.push(`ack ${message.fields.deliveryTag}${allUpTo ? ' multiple' : ''}`),
    nack: (message: Message, allUpTo?: boolean, requeue?: boolean) =>
      frames.push(`nack ${message.fields.deliveryTag}${allUpTo ? ' multiple' : ''}${requeue === false ? ' drop' : ''}`),
    reject: (message: Message) => frames.push(`reject ${message.fields.deliveryTag}`),
    close: async () => void frames.push('close'),
    prefetch: async () => ({}),
  } as unknown as ConfirmChannel;
  return { channel, frames, deliver: (tag: number) => deliver({ fields: { deliveryTag: tag } } as ConsumeMessage) };
}

const message = (tag: number) => ({ fields: { deliveryTag: tag } }) as Message;
const nextTick = () => new Promise<void>((resolve) => process.nextTick(resolve));

describe('coalesceAcks', () => {
  it('sends the acks of one tick as one multiple ack when every earlier delivery is settled', async () => {
    const { channel, frames, deliver } = recordingChannel();
    const coalesced = coalesceAcks(channel);
    await coalesced.consume('q', () => {});
    for (const tag of [1, 2, 3]) deliver(tag);
    coalesced.ack(message(2));
    coalesced.ack(message(1));
    coalesced.ack(message(3));
    expect(frames, '🚨 nothing leaves before the end of the tick').toEqual([]);
    await nextTick();
    expect(frames).toEqual(['ack 3 multiple']);
  });

  it('never covers a delivery still in progress: acks above it go one by one', async () => {
    const { channel, frames, deliver } = recordingChannel();
    const coalesced = coalesceAcks(channel);
    await coalesced.consume('q', () => {});
    for (const tag of [1, 2, 3, 4, 5]) deliver(tag);
    // 3 is still being handled.
    for (const tag of [1, 2, 4, 5]) coalesced.ack(message(tag));
    await nextTick();
    expect(frames).toEqual(['ack 2 multiple', 'ack 4', 'ack 5']);
    // Once 3 is done, it is the lowest unsettled no more; a single ack for it alone.
    coalesced.ack(message(3));
    await nextTick();
    expect(frames.slice(3)).toEqual(['ack 3']);
  });

  it('sends held acks before a nack or reject, so settlements keep their order', async () => {
    const { channel, frames, deliver } = recordingChannel();
    const coalesced = coalesceAcks(channel);
    await coalesced.consume('q', () => {});
    for (const tag of [1, 2, 3]) deliver(tag);
    coalesced.ack(message(1));
    coalesced.nack(message(2), false, false);
    coalesced.ack(message(3));
    coalesced.reject(message(4));
    await nextTick();
    expect(frames).toEqual(['ack 1', 'nack 2 drop', 'ack 3', 'reject 4']);
  });

  it('a multiple ack may span a delivery nacked earlier (the broker skips what is settled)', async () => {
    const { channel, frames, deliver } = recordingChannel();
    const coalesced = coalesceAcks(channel);
    await coalesced.consume('q', () => {});
    for (const tag of [1, 2, 3]) deliver(tag);
    coalesced.nack(message(2), false, false);
    coalesced.ack(message(1));
    coalesced.ack(message(3));
    await nextTick();
    expect(frames).toEqual(['nack 2 drop', 'ack 3 multiple']);
  });

  it('close sends the held acks first: a graceful stop loses none', async () => {
    const { channel, frames, deliver } = recordingChannel();
    const coalesced = coalesceAcks(channel);
    await coalesced.consume('q', () => {});
    deliver(1);
    coalesced.ack(message(1));
    await coalesced.close();
    expect(frames).toEqual(['ack 1', 'close']);
  });
});
