// Layer 10: a stream keeps what it is given. The reference declares one with its retention, reads it
// from each kind of offset, hands a handler's failure to onError and carries on, and stop() waits
// for the handler still running.
import { randomUUID } from 'node:crypto';
import type { ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import type { StreamOffset } from '../../shared/layers/10-streams.ts';
import { streams } from '../../solutions/layers/10-streams.ts';
import { eventually } from '../support/eventually.ts';
import { useVhostChannel } from '../support/vhost.ts';

const broker = useVhostChannel('layer-10');

async function filledStream(count: number): Promise<string> {
  const name = `stream.${randomUUID().slice(0, 8)}`;
  await streams.declareStream(broker.channel, { name, retention: { maxBytes: 5_000_000, maxAge: '1h' } });
  for (let n = 0; n < count; n++) {
    broker.channel.sendToQueue(name, Buffer.from(`m${n}`));
    await broker.channel.waitForConfirms(); // each in a chunk of its own
  }
  return name;
}

/** Reads `stream` from `from` until `count` messages arrived; returns their bodies and offsets. */
async function readFrom(stream: string, from: StreamOffset, count: number): Promise<string[]> {
  const got: string[] = [];
  const channel = await broker.connection.createChannel();
  const reader = await streams.read(channel, stream, (message, offset) => void got.push(`${message.content.toString()}@${offset}`), {
    from,
    prefetch: 2,
  });
  await eventually(() => got.length >= count, { what: `${count} messages from ${String(from)}` });
  await reader.stop();
  await channel.close();
  return got;
}

describe('streams', () => {
  it('declares a durable stream with the size limit of its spec', async () => {
    const name = await filledStream(0);
    const info = await broker.vhost.api.request<{ type: string; durable: boolean; arguments: Record<string, unknown> }>(
      'GET',
      `/queues/${encodeURIComponent(broker.vhost.vhost)}/${encodeURIComponent(name)}`,
    );
    expect(info.type).toBe('stream');
    expect(info.durable).toBe(true);
    expect(info.arguments['x-max-length-bytes']).toBe(5_000_000);
  });

  it('reads from first, last, a number and a timestamp, with each offset', async () => {
    const stream = await filledStream(4);
    expect(await readFrom(stream, 'first', 4)).toEqual(['m0@0', 'm1@1', 'm2@2', 'm3@3']);
    expect(await readFrom(stream, 'last', 1)).toEqual(['m3@3']);
    expect(await readFrom(stream, 2, 2)).toEqual(['m2@2', 'm3@3']);
    expect(await readFrom(stream, new Date(Date.now() - 60_000), 4)).toEqual(['m0@0', 'm1@1', 'm2@2', 'm3@3']);
  });

  it('reads from next only what comes after it attached, and a second reader still finds it all', async () => {
    const stream = await filledStream(2);
    const got: string[] = [];
    const channel = await broker.connection.createChannel();
    const reader = await streams.read(channel, stream, (message) => void got.push(message.content.toString()), {
      from: 'next',
      prefetch: 5,
    });
    broker.channel.sendToQueue(stream, Buffer.from('late'));
    await broker.channel.waitForConfirms();
    await eventually(() => got.length >= 1, { what: 'the late message' });
    expect(got).toEqual(['late']);
    await reader.stop();
    expect(await readFrom(stream, 'first', 3)).toEqual(['m0@0', 'm1@1', 'late@2']);
  });

  it('hands a failing message to onError, acks it and goes on, one handler at a time', async () => {
    const stream = await filledStream(6);
    const handled: string[] = [];
    const failed: string[] = [];
    let running = 0;
    let most = 0;
    const channel = await broker.connection.createChannel();
    const reader = await streams.read(
      channel,
      stream,
      async (message) => {
        running++;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running--;
        if (message.content.toString() === 'm1') throw new Error('cannot handle m1');
        handled.push(message.content.toString());
      },
      { from: 'first', prefetch: 2, onError: (_error, message: ConsumeMessage) => failed.push(message.content.toString()) },
    );
    await eventually(() => handled.length >= 5, { what: 'the five other messages' });
    expect(handled).toEqual(['m0', 'm2', 'm3', 'm4', 'm5']);
    expect(failed).toEqual(['m1']);
    expect(most).toBe(1);
    await reader.stop();
  });

  it('stop() waits for the handler still running, and nothing is delivered after it', async () => {
    const stream = await filledStream(3);
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const seen: string[] = [];
    let finished = false;
    const channel = await broker.connection.createChannel();
    const reader = await streams.read(
      channel,
      stream,
      async (message) => {
        seen.push(message.content.toString());
        await gate;
        finished = true;
      },
      { from: 'first', prefetch: 1 },
    );
    await eventually(() => seen.length === 1, { what: 'the first message' });
    const stopping = reader.stop();
    release();
    await stopping;
    expect(finished).toBe(true);
    expect(seen.length, '🚨 stop() returned while handlers were still to run').toBeLessThanOrEqual(2);
    const settled = seen.length;
    broker.channel.sendToQueue(stream, Buffer.from('after-stop'));
    await broker.channel.waitForConfirms();
    // The stopped reader has no consumer left: a reader from next on the same stream gets the message, the stopped one does not.
    expect(await readFrom(stream, 3, 1)).toEqual(['after-stop@3']);
    expect(seen.length).toBe(settled);
  });
});
