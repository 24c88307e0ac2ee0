// Milestone 7's checks on the learner's server: hand-made requests answered on their reply_to and
// acked, and a network that dies mid-request losing nothing.
import { isDeepStrictEqual } from 'node:util';
import amqp, { type Channel } from 'amqplib';
import { describeError } from '../../../shared/log.ts';
import { type Check, type CheckContext, CheckFailure, expectThat } from '../../check.ts';
import { ignoreErrorsTheCheckReports, waitFor } from '../../checks/support.ts';
import { JSON_TYPE, parsed, replyIn } from './replies.ts';
import { cuttingRelay, freshQueue, settle } from './support.ts';

/** A connection of the server under test through the relay, with its own error listeners (the relay kills it on purpose). */
async function serverChannelThrough(context: CheckContext, url: string, thrown: unknown[]): Promise<Channel> {
  const connection = ignoreErrorsTheCheckReports(await amqp.connect(url));
  context.onCleanup(() => connection.close().catch(() => {}));
  const channel = ignoreErrorsTheCheckReports(await connection.createChannel());
  channel.on('handler-error', (error: unknown) => thrown.push(error));
  return channel;
}

/** One request nobody can be answered for, then three callers, each with its own reply queue: each answer must go to the one that asked. */
async function sendHandMadeRequests(channel: Channel, queue: string) {
  channel.sendToQueue(queue, Buffer.from(JSON.stringify({ orderId: 'no-reply-to' })), { contentType: JSON_TYPE });
  const callers = [];
  for (const [orderId, wanted] of [
    ['A-1', { orderId: 'A-1', status: 'paid' }],
    ['B-2', { orderId: 'B-2', status: 'paid' }],
    ['C-3', null],
  ] as const) {
    const { queue: replyTo } = await channel.assertQueue('', { exclusive: true });
    const correlationId = `corr-${orderId}`;
    channel.sendToQueue(queue, Buffer.from(JSON.stringify({ orderId })), { replyTo, correlationId, contentType: JSON_TYPE });
    callers.push({ orderId, wanted, replyTo, correlationId });
  }
  return callers;
}

type Caller = Awaited<ReturnType<typeof sendHandMadeRequests>>[number];

async function expectAnswered(channel: Channel, { orderId, wanted, replyTo, correlationId }: Caller): Promise<void> {
  const reply = await replyIn(
    channel,
    replyTo,
    `a reply for ${orderId} in ${replyTo} (the request's reply_to)`,
    () => 'nothing arrived there',
  );
  expectThat(
    reply.properties.correlationId === correlationId,
    `correlation id "${correlationId}" on the reply`,
    `"${reply.properties.correlationId}"`,
    "Copy the request's correlationId onto the reply: it is how the caller finds its call.",
  );
  const body = parsed(reply);
  if (body === undefined) throw new CheckFailure('a JSON reply body', `"${reply.content.toString('utf8').slice(0, 80)}"`);
  const failed = Boolean(reply.properties.headers?.['x-rpc-error']);
  const markedAsError = failed ? ' marked as an error' : '';
  expectThat(
    !failed && isDeepStrictEqual(body, wanted),
    `the handler's result ${JSON.stringify(wanted)} as the reply`,
    `${JSON.stringify(body)}${markedAsError}`,
    wanted === null
      ? 'A handler that returns nothing is answered with null: JSON.stringify(undefined) is not a string.'
      : 'The handler gets the parsed request, and its result goes back as JSON.',
  );
}

/** Once the server's channel is closed, nothing comes back to the queue: every request was acked. */
async function expectAllAcked(channel: Channel, queue: string): Promise<void> {
  const back: unknown[] = [];
  for (let message = await channel.get(queue, { noAck: true }); message; message = await channel.get(queue, { noAck: true }))
    back.push(parsed(message));
  const withoutReplyTo = back.some((body) => isDeepStrictEqual(body, { orderId: 'no-reply-to' }));
  expectThat(
    back.length === 0,
    'all four requests acked, the one without reply_to too',
    `${back.length} request(s) back in the queue, never acked: ${back.map((body) => JSON.stringify(body)).join(', ')}`,
    withoutReplyTo
      ? 'A request without replyTo cannot be answered, but it must still be settled: ack it.'
      : 'Ack each request once its reply is sent.',
  );
}

export const serveReplies: Check<'rpc'> = {
  id: '07.serve-replies',
  name: 'serve answers each hand-made request on its reply_to queue with the same correlation id and the JSON result (null for none), and acks every request, those without reply_to too',
  hint: "Reply to the request's replyTo with its correlationId, the handler's result as JSON; then ack. A request without replyTo has nobody to answer: ack it and move on.",
  async run({ layer, connect }) {
    const connection = await connect();
    const channel = await connection.createChannel();
    const queue = await freshQueue(channel);
    const serverChannel = ignoreErrorsTheCheckReports(await connection.createChannel());
    const server = await layer.serve(serverChannel, queue, async (request) => {
      const { orderId } = (request ?? {}) as { orderId?: string };
      return orderId === 'C-3' ? undefined : { orderId, status: 'paid' };
    });

    const callers = await sendHandMadeRequests(channel, queue);
    for (const caller of callers) await expectAnswered(channel, caller);

    await server.stop();
    await serverChannel.close().catch(() => {}); // anything still unacked goes back to the queue
    await expectAllAcked(channel, queue);
  },
};

/** What the second server's first step was, when its connection died right after it, in the words of a failure. */
function lostAfterFirstStep(first: Awaited<ReturnType<typeof settle>>): CheckFailure {
  const acked = 'resolved' in first && first.resolved === 'settle';
  const seen = acked
    ? 'the server acked the request, then its connection died before the reply went out: the request is gone and its caller never gets an answer'
    : "the server published something first, but no reply reached the request's reply_to, and the request did not come back";
  const hint = acked ? 'Send the reply first, then ack the request.' : "Reply to the request's replyTo, then ack it.";
  return new CheckFailure('the request answered, or back in the queue, when the server dies right after its first step', seen, hint);
}

export const replyThenAck: Check<'rpc'> = {
  id: '07.reply-then-ack',
  name: 'a server whose connection dies mid-request loses no request: it comes back, or its reply went out first',
  hint: 'Consume requests with manual acks, and ack a request only after its reply is sent: a crash in between then means the request comes back and is answered twice, which the client ignores.',
  async run(context) {
    const { layer, connect } = context;
    const connection = await connect();
    const channel = await connection.createChannel();
    const queue = await freshQueue(channel);
    const { queue: replyTo } = await channel.assertQueue('', { exclusive: true });
    const relay = await cuttingRelay(context);
    const thrown: unknown[] = [];
    const waitingIn = async (name: string) => (await channel.checkQueue(name)).messageCount;

    // 1. The connection dies while the handler works: the request must come back to the queue.
    let working = false;
    await layer.serve(await serverChannelThrough(context, relay.url, thrown), queue, () => {
      working = true;
      return new Promise(() => {}); // the work never ends: the server dies first
    });
    channel.sendToQueue(queue, Buffer.from(JSON.stringify({ orderId: 'crash-1' })), {
      replyTo,
      correlationId: 'crash-1',
      contentType: JSON_TYPE,
    });
    await waitFor(
      () => working || undefined,
      'serve to hand the request to the handler',
      () => 'the handler was never called',
      2000,
    );
    relay.cut();
    await waitFor(
      async () => ((await waitingIn(queue)) === 1 ? true : undefined),
      'the request back in the queue once the server died during the work',
      () => 'the queue is empty: the request is lost. It was settled before the work was done (acked early, or consumed with noAck)',
      1500,
    ).catch((failure: CheckFailure) => {
      throw new CheckFailure(
        failure.expected,
        failure.seen,
        'Consume requests with manual acks (noAck: false) and ack a request only once its reply is sent.',
      );
    });

    // 2. A second server gets it, and its connection dies right after the first thing it does:
    //    the reply, or the ack. Either the reply went out, or the request comes back.
    const cutting = relay.cutAfterFirstSettleOrPublish();
    await layer.serve(await serverChannelThrough(context, relay.url, thrown), queue, async (request) => ({
      answered: (request as { orderId?: string }).orderId,
    }));
    const first = await settle(cutting, 2000);
    expectThat('resolved' in first, 'the second server to answer the redelivered request', 'it neither replied nor acked');
    const answeredOrBack = async () => {
      if ((await waitingIn(replyTo)) > 0) return 'answered';
      return (await waitingIn(queue)) > 0 ? 'redelivered' : undefined;
    };
    const outcome = await waitFor(answeredOrBack, 'the request answered, or back in the queue', () => 'neither', 1000).catch(() => {
      throw lostAfterFirstStep(first);
    });
    expectThat(outcome === 'answered' || outcome === 'redelivered', 'the request answered or redelivered', outcome);
    expectThat(thrown.length === 0, 'no errors from the server', () => `your server threw: ${describeError(thrown[0])}`);
  },
};
