// Layer 7: RPC over RabbitMQ. Concurrent calls each get their own answer, a call nobody answers
// times out (and its request expires unprocessed), stray and late replies are ignored, remote errors arrive
// as rejections, and a server survives requests it cannot parse or answer.
import { randomUUID } from 'node:crypto';
import { type ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { RpcTimeoutError } from '../../shared/layers/07-rpc.ts';
import { rpc } from '../../solutions/layers/07-rpc.ts';
import { eventually } from '../support/eventually.ts';
import { useVhostChannel } from '../support/vhost.ts';
import { freshQueue as freshQueueOn } from '../../grader/milestones/07-rpc/support.ts';

const broker = useVhostChannel('layer-07', { confirms: false });

const freshQueue = () => freshQueueOn(broker.channel);

const doubler = async (request: unknown) => ({ doubled: (request as { n: number }).n * 2 });

describe('rpc', () => {
  it('answers 50 concurrent calls, each with its own reply', async () => {
    const queue = await freshQueue();
    const server = await rpc.serve(await broker.connection.createChannel(), queue, doubler);
    const client = await rpc.createClient(await broker.connection.createChannel(), { timeoutMs: 5000 });

    const replies = await Promise.all(Array.from({ length: 50 }, (_, n) => client.call(queue, { n })));
    expect(replies).toEqual(Array.from({ length: 50 }, (_, n) => ({ doubled: n * 2 })));
    await client.close();
    await server.stop();
  });

  it('times out a call nobody answers, within its bound, and the request expires unprocessed', async () => {
    const queue = await freshQueue();
    const client = await rpc.createClient(await broker.connection.createChannel(), { timeoutMs: 300 });

    const started = Date.now();
    const calling = client.call(queue, { n: 1 });
    await expect(calling).rejects.toThrow(RpcTimeoutError);
    await expect(calling).rejects.toThrow(`no reply from ${queue} within 300 ms`);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed, '🚨 the timeout should not run much past its bound').toBeLessThan(1500);

    // The broker discards the request once its expiration passes, so a server that comes late
    // never works on a call whose caller has given up.
    await eventually(async () => (await broker.channel.checkQueue(queue)).messageCount === 0, { what: 'the request to expire' });
    const requests: unknown[] = [];
    const server = await rpc.serve(await broker.connection.createChannel(), queue, async (request) => {
      requests.push(request);
      return 'fresh';
    });
    await expect(client.call(queue, { n: 2 })).resolves.toBe('fresh');
    expect(requests).toEqual([{ n: 2 }]);
    await client.close();
    await server.stop();
  });

  it('ignores a reply with an unknown correlation id, and the real reply still arrives', async () => {
    const queue = await freshQueue();
    // A hand-written server that answers every request twice: once with a stranger's correlation id.
    const serverChannel = await broker.connection.createChannel();
    await serverChannel.consume(queue, (request) => {
      if (!request) return;
      const { replyTo, correlationId } = request.properties;
      serverChannel.sendToQueue(replyTo, Buffer.from('"not for you"'), { correlationId: randomUUID() });
      serverChannel.sendToQueue(replyTo, Buffer.from('"yours"'), { correlationId });
      serverChannel.ack(request);
    });
    const client = await rpc.createClient(await broker.connection.createChannel(), { timeoutMs: 5000 });

    await expect(client.call(queue, {})).resolves.toBe('yours');
    await expect(client.call(queue, {})).resolves.toBe('yours');
    await client.close();
    await serverChannel.close();
  });

  it('ignores a late reply to a call that timed out, while the next call waits for its own', async () => {
    const queue = await freshQueue();
    const serverChannel = await broker.connection.createChannel();
    let held: ConsumeMessage | undefined;
    await serverChannel.consume(
      queue,
      (request) => {
        if (!request) return;
        if (!held) return void (held = request); // the first request is answered only once it timed out
        serverChannel.sendToQueue(held.properties.replyTo, Buffer.from('"late"'), { correlationId: held.properties.correlationId });
        serverChannel.sendToQueue(request.properties.replyTo, Buffer.from('"yours"'), { correlationId: request.properties.correlationId });
      },
      { noAck: true },
    );
    const client = await rpc.createClient(await broker.connection.createChannel(), { timeoutMs: 300 });

    await expect(client.call(queue, { n: 1 })).rejects.toThrow(RpcTimeoutError);
    await expect(client.call(queue, { n: 2 })).resolves.toBe('yours');
    await client.close();
    await serverChannel.close();
  });

  it("rejects the call with the remote error's message when the handler throws", async () => {
    const queue = await freshQueue();
    const server = await rpc.serve(await broker.connection.createChannel(), queue, async () => {
      throw new Error('order 42 is unknown');
    });
    const client = await rpc.createClient(await broker.connection.createChannel(), { timeoutMs: 5000 });

    await expect(client.call(queue, { orderId: '42' })).rejects.toThrow('order 42 is unknown');
    await client.close();
    await server.stop();
  });

  it('answers an unparseable request with an error reply, drops one without reply_to, and keeps serving', async () => {
    const queue = await freshQueue();
    const handled: unknown[] = [];
    const server = await rpc.serve(await broker.connection.createChannel(), queue, async (request) => {
      handled.push(request);
      return 'ok';
    });
    const { queue: replyQueue } = await broker.channel.assertQueue('', { exclusive: true });

    broker.channel.sendToQueue(queue, Buffer.from('{oops'), { replyTo: replyQueue, correlationId: 'c1' });
    const reply = await eventually(() => broker.channel.get(replyQueue, { noAck: true }), { what: 'the error reply' });
    expect(reply.properties.correlationId).toBe('c1');
    expect(reply.properties.headers?.['x-rpc-error']).toBe(true);
    expect(JSON.parse(reply.content.toString())).toEqual({ error: expect.stringMatching(/^the request is not valid JSON/) });

    broker.channel.sendToQueue(queue, Buffer.from('{"n": 1}')); // nobody to answer
    const client = await rpc.createClient(await broker.connection.createChannel(), { timeoutMs: 5000 });
    await expect(client.call(queue, { n: 2 })).resolves.toBe('ok');
    expect(handled, '🚨 a request without reply_to should not be handled').toEqual([{ n: 2 }]);
    expect((await broker.channel.checkQueue(queue)).messageCount).toBe(0);
    await client.close();
    await server.stop();
  });

  it('close() rejects calls still waiting, and refuses new ones', async () => {
    const queue = await freshQueue();
    const client = await rpc.createClient(await broker.connection.createChannel(), { timeoutMs: 10_000 });
    const waiting = expect(client.call(queue, {})).rejects.toThrow('the RPC client was closed');
    await client.close();
    await waiting;
    await expect(client.call(queue, {})).rejects.toThrow('the RPC client is closed');
  });

  it('tells the caller when the broker cancels the server (its queue deleted), so the system can start it again', async () => {
    const queue = await freshQueue();
    let cancelled = 0;
    const server = await rpc.serve(await broker.connection.createChannel(), queue, doubler, { onCancelled: () => cancelled++ });
    await broker.channel.deleteQueue(queue);
    await eventually(() => cancelled === 1, { what: 'onCancelled after the queue was deleted' });
    await server.stop();
  });
});
