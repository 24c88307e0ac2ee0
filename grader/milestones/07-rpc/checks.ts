// Milestone 7: RPC. The learner's client is called against hand-written servers (replies in reverse
// order, stray and late replies, nobody at all) and the reference server; the learner's server is
// driven with hand-made requests, the reference client, and a network that dies mid-request; finally
// both run inside the order system behind GET /orders/:id/payment.
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import amqp, { type Channel, type ConsumeMessage } from 'amqplib';
import type { RpcClient } from '../../../shared/layers/07-rpc.ts';
import { describeError } from '../../../shared/log.ts';
import { OrderStore } from '../../../solutions/services/order/order-store.ts';
import { PaymentStore } from '../../../solutions/services/payment/payment-store.ts';
import { CheckFailure, defineChecks, expectThat, type CheckContext } from '../../check.ts';
import { activeTimers, cuttingRelay, describeOutcome, freshQueue, isTimeout, otherQueues, settle, stillHeld, firedTimersHeld, watchedChannel, type Outcome } from './support.ts';
import { waitFor } from '../../checks/support.ts';

const TIMEOUT_MS = 200;
const CALLS = 50;
/** Calls to nobody in 07.client-resources, which all time out. */
const TIMED_OUT = 10;
/** The timeout of 07.client-resources's client: a duration no other timer of the grader has. */
const RESOURCES_TIMEOUT_MS = 317;
const JSON_TYPE = 'application/json';

/** Reads one message from a queue, polling. */
function replyIn(channel: Channel, queue: string, expected: string, seen: () => string): Promise<ConsumeMessage> {
  return waitFor(async () => ((await channel.get(queue, { noAck: true })) || undefined) as ConsumeMessage | undefined, expected, seen, 2000);
}

function parsed(message: { content: Buffer }): unknown {
  try {
    return JSON.parse(message.content.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** A connection of the server under test through the relay, with its own error listeners (the relay kills it on purpose). */
async function serverChannelThrough(context: CheckContext, url: string, thrown: unknown[]): Promise<Channel> {
  const connection = await amqp.connect(url);
  connection.on('error', () => {});
  context.onCleanup(() => connection.close().catch(() => {}));
  const channel = await connection.createChannel();
  channel.on('error', () => {});
  channel.on('handler-error', (error: unknown) => thrown.push(error));
  return channel;
}

export const checks = defineChecks('rpc', [
  {
    id: '07.concurrent-calls',
    name: '50 concurrent calls each get their own answer, and no timer is left running once they have',
    hint: 'Give every call a fresh correlationId, keep the pending calls in a Map by that id, and settle the one whose id the reply carries.',
    async run({ layer, connect, onCleanup }) {
      const connection = await connect();
      const { channel, thrown } = await watchedChannel(connection, onCleanup);
      const queue = await freshQueue(channel);
      // A hand-written server that collects the requests and answers them in reverse order: the
      // replies come back in another order than the calls went out.
      const server = await connection.createChannel();
      const held: ConsumeMessage[] = [];
      const ids = new Set<string>();
      const faults = { noReplyTo: 0, noCorrelationId: 0, repeatedId: 0 };
      let idle: NodeJS.Timeout | undefined;
      const answerAll = () => {
        clearTimeout(idle);
        for (const request of held.splice(0).reverse()) {
          const { replyTo, correlationId } = request.properties;
          const n = (parsed(request) as { n?: number } | undefined)?.n;
          server.sendToQueue(replyTo, Buffer.from(JSON.stringify({ doubled: typeof n === 'number' ? n * 2 : null })), { correlationId, contentType: JSON_TYPE });
        }
      };
      await server.consume(queue, (request) => {
        if (!request) return;
        const { replyTo, correlationId } = request.properties;
        if (!replyTo) return void faults.noReplyTo++;
        if (!correlationId) faults.noCorrelationId++;
        else if (ids.has(correlationId)) faults.repeatedId++;
        ids.add(correlationId);
        held.push(request);
        clearTimeout(idle);
        if (held.length === CALLS) answerAll();
        else idle = setTimeout(answerAll, 300); // fewer requests came: answer those
      }, { noAck: true });
      onCleanup(() => clearTimeout(idle));
      const client = await layer.createClient(channel, { timeoutMs: 3000 });
      onCleanup(() => client.close());

      const timersBefore = activeTimers();
      const outcomes = await Promise.all(Array.from({ length: CALLS }, (_, n) => settle(client.call(queue, { n }), 3500)));
      const wrong = outcomes
        .map((outcome, n) => ({ n, outcome }))
        .filter(({ n, outcome }) => !('resolved' in outcome && isDeepStrictEqual(outcome.resolved, { doubled: n * 2 })));
      expectThat(faults.noReplyTo === 0, 'every request to carry reply_to (the queue its answer goes to)', `${faults.noReplyTo} of ${CALLS} requests had no reply_to`, 'Send each request with the replyTo option: your reply queue.');
      expectThat(faults.noCorrelationId === 0, 'every request to carry a correlation_id', `${faults.noCorrelationId} of ${CALLS} requests had none`, 'Send each request with the correlationId option, a fresh one per call.');
      expectThat(faults.repeatedId === 0, 'a fresh correlation id for every call', `${faults.repeatedId} requests reused an id another call had`, 'Make the correlation id per call (randomUUID() inside call), not once per client.');
      expectThat(
        wrong.length === 0,
        `call n ({"n": n}) to resolve with {"doubled": 2n}, for each of the ${CALLS}, though the replies come back in reverse order`,
        () => `${wrong.length} wrong, e.g. ${wrong.slice(0, 3).map(({ n, outcome }) => `call ${n}: ${describeOutcome(outcome)}`).join('; ')}`,
      );
      expectThat(thrown.length === 0, 'no errors on the client channel', () => `your code threw: ${describeError(thrown[0])}`);
      const left = activeTimers() - timersBefore;
      expectThat(
        left < 10,
        'no timer left running once every call has its answer',
        `${left} timers still running after all ${CALLS} calls were answered (their timeouts, still waiting to fire)`,
        "When a reply settles a call, clear that call's timer: a forgotten one keeps the process alive until it fires.",
      );
    },
  },
  {
    id: '07.timeout',
    name: `a call nobody answers fails with RpcTimeoutError after its timeout (${TIMEOUT_MS} ms), not much later, and its request expires`,
    hint: 'Start a timer per call that removes the pending call and rejects it with RpcTimeoutError; give the request an expiration equal to the timeout.',
    async run({ layer, connect, onCleanup }) {
      const connection = await connect();
      const { channel } = await watchedChannel(connection, onCleanup);
      const queue = await freshQueue(channel); // nobody consumes it
      const client = await layer.createClient(channel, { timeoutMs: TIMEOUT_MS });
      onCleanup(() => client.close());

      const started = Date.now();
      const outcome = await settle(client.call(queue, { orderId: 'nobody-home' }), TIMEOUT_MS + 1500);
      const elapsed = Date.now() - started;
      const error = 'rejected' in outcome ? outcome.rejected : undefined;
      expectThat(
        isTimeout(error),
        `the call to reject with RpcTimeoutError after ${TIMEOUT_MS} ms`,
        () => `${describeOutcome(outcome)} after ${elapsed} ms`,
        'pending' in outcome ? 'Nothing ends a call nobody answers: start a timer for each call.' : 'Reject with new RpcTimeoutError(queue, timeoutMs), the class from shared/layers/07-rpc.ts.',
      );
      expectThat(elapsed >= TIMEOUT_MS - 20, `the call to wait its ${TIMEOUT_MS} ms`, `it gave up after ${elapsed} ms`);
      expectThat(elapsed <= TIMEOUT_MS + 500, `the call to give up soon after ${TIMEOUT_MS} ms`, `it took ${elapsed} ms`, 'The timer is in milliseconds: timeoutMs as it is.');

      // The caller has given up: a server that comes late should not find the request and work for nobody.
      const check = await connection.createChannel();
      await waitFor(
        async () => ((await check.checkQueue(queue)).messageCount === 0 ? true : undefined),
        `the request to expire from ${queue} with the call's timeout`,
        () => 'it is still in the queue, waiting for a server, though its caller gave up',
        1000,
      ).catch((failure: CheckFailure) => {
        throw new CheckFailure(failure.expected, failure.seen, 'Publish the request with a per-message TTL: expiration, a string of milliseconds (milestone 6).');
      });
    },
  },
  {
    id: '07.stray-reply',
    name: "a reply nobody is waiting for (a stranger's, or a late one for a call that timed out) is ignored, and the real replies still arrive",
    hint: "In the reply consumer, look the correlation id up in your pending calls first; when nothing is there, just return. Don't throw: an exception in a consume callback breaks the connection.",
    after: ['07.timeout'],
    async run({ layer, connect, onCleanup }) {
      const connection = await connect();
      const { channel, thrown } = await watchedChannel(connection, onCleanup);
      const queue = await freshQueue(channel);
      // A hand-written server that answers every request twice: first with a stranger's correlation
      // id and a body that is not even JSON, then for real. It holds the request marked "late" back,
      // and answers it only while the next call waits.
      const server = await connection.createChannel();
      let late: ConsumeMessage | undefined;
      await server.consume(queue, (request) => {
        if (!request?.properties.replyTo) return;
        const { replyTo, correlationId } = request.properties;
        const { which } = (parsed(request) ?? {}) as { which?: string };
        if (which === 'late') return void (late = request);
        if (late) server.sendToQueue(late.properties.replyTo, Buffer.from('"late"'), { correlationId: late.properties.correlationId, contentType: JSON_TYPE });
        server.sendToQueue(replyTo, Buffer.from('not for you'), { correlationId: randomUUID(), contentType: 'text/plain' });
        server.sendToQueue(replyTo, Buffer.from('"yours"'), { correlationId, contentType: JSON_TYPE });
      }, { noAck: true });
      const client = await layer.createClient(channel, { timeoutMs: 300 });
      onCleanup(() => client.close());

      const own = async (which: string) => {
        const outcome = await settle(client.call(queue, { which }), 2000);
        expectThat(thrown.length === 0, 'the stray replies to be ignored', () => `your reply consumer threw: ${describeError(thrown[0])}`);
        expectThat('resolved' in outcome && outcome.resolved === 'yours', `the ${which} call to resolve with its own reply "yours"`, describeOutcome(outcome));
      };
      await own('first');
      const timedOut = await settle(client.call(queue, { which: 'late' }), 1500);
      expectThat('rejected' in timedOut && isTimeout(timedOut.rejected), 'the call the server holds back to time out', describeOutcome(timedOut));
      await own('second'); // its own reply comes after the late reply to the call that timed out
    },
  },
  {
    id: '07.client-resources',
    name: 'a client keeps one reply queue and one consumer whatever its calls do, lets go of the calls that timed out, and close() leaves nothing behind',
    hint: 'Declare and consume the reply queue once, in createClient; delete a call from the pending map when it settles, however it settles; close() rejects the calls still waiting, clears their timers and cancels the consumer.',
    after: ['07.concurrent-calls', '07.timeout'],
    async run(context) {
      const { layer, reference, connect, onCleanup } = context;
      const connection = await connect();
      const setup = await connection.createChannel();
      const served = await freshQueue(setup);
      const nobody = await freshQueue(setup);
      await reference.rpc.serve(await connection.createChannel(), served, async (request) => request);
      const { channel, thrown } = await watchedChannel(connection, onCleanup);
      const client = await layer.createClient(channel, { timeoutMs: RESOURCES_TIMEOUT_MS });
      let closed = false;
      onCleanup(() => (closed ? undefined : client.close()));

      // 10 calls answered and 10 that time out, at the same time. Only weak references to the
      // timeouts' errors are kept: if the client still holds a call, its error stays reachable (up to
      // Node 24), and so does its timer object (on every Node).
      const firedBefore = await firedTimersHeld(RESOURCES_TIMEOUT_MS);
      const timedOut = await (async () => {
        const calls = [
          ...Array.from({ length: 10 }, (_, n) => settle(client.call(served, { n }), 2000)),
          ...Array.from({ length: TIMED_OUT }, (_, n) => settle(client.call(nobody, { n }), 2000)),
        ];
        const outcomes = await Promise.all(calls);
        const answered = outcomes.slice(0, 10).filter((outcome, n) => 'resolved' in outcome && isDeepStrictEqual(outcome.resolved, { n })).length;
        expectThat(answered === 10, '10 calls to a server to be answered', `${answered} were`);
        const errors = outcomes.slice(10).map((outcome) => ('rejected' in outcome ? outcome.rejected : undefined));
        expectThat(errors.every(isTimeout), `${TIMED_OUT} calls nobody answers to time out`, () => describeOutcome(outcomes.slice(10).find((o) => !('rejected' in o && isTimeout(o.rejected))) as Outcome));
        return errors.map((error) => new WeakRef(error as Error));
      })();

      const queues = await otherQueues(context, connection, [served, nobody]);
      const consumers = queues.reduce((sum, queue) => sum + queue.consumers, 0);
      expectThat(
        queues.length <= 1,
        'one reply queue for the client, however many calls it makes',
        () => `${queues.length} reply queues after 15 calls (${queues.slice(0, 3).map((q) => q.name).join(', ')}…): one per call, never removed`,
        'Declare the reply queue once, in createClient, and use it for every call.',
      );
      expectThat(
        consumers <= 1,
        'one consumer on the reply queue, however many calls the client makes',
        `${consumers} consumers on ${queues[0]?.name}: one per call, never cancelled`,
        'Consume the reply queue once, in createClient; every reply comes through that one consumer.',
      );
      const held = Math.max(await stillHeld(timedOut), (await firedTimersHeld(RESOURCES_TIMEOUT_MS)) - firedBefore);
      expectThat(
        held === 0,
        'a call that timed out to be gone from the client',
        `${held} of the ${TIMED_OUT} calls that timed out are still held by your client (in its pending calls?)`,
        'When a call times out, delete it from your pending calls as well as rejecting it: nobody will ever settle it again.',
      );

      // close(): the calls still waiting are rejected now, not at their timeout, and their timers go.
      const second = await watchedChannel(connection, onCleanup);
      const patient = await layer.createClient(second.channel, { timeoutMs: 3000 });
      let patientClosed = false;
      onCleanup(() => (patientClosed ? undefined : patient.close()));
      const timersBefore = activeTimers();
      const waiting = Array.from({ length: 20 }, (_, n) => settle(patient.call(nobody, { n }), 1000));
      await new Promise((resolve) => setImmediate(resolve));
      const closing = await settle(patient.close(), 1000);
      patientClosed = true;
      expectThat('resolved' in closing, 'close() to resolve', describeOutcome(closing));
      const afterClose = await Promise.all(waiting);
      const stillWaiting = afterClose.filter((outcome) => !('rejected' in outcome)).length;
      expectThat(stillWaiting === 0, 'close() to reject the 20 calls still waiting, at once', `${stillWaiting} of them were still waiting a second later`, 'In close(), reject every pending call and empty the map.');
      const timersLeft = activeTimers() - timersBefore;
      expectThat(timersLeft < 10, "close() to clear the waiting calls' timers", `${timersLeft} timers still running after close()`, 'In close(), clear the timer of every call you reject.');

      await settle(client.close(), 1000);
      closed = true;
      let left: Array<{ name: string; consumers: number }> = [];
      await waitFor(
        async () => ((left = await otherQueues(context, connection, [served, nobody])).length === 0 ? true : undefined),
        'no reply queue and no consumer left once both clients are closed',
        () => `${left.map((q) => `${q.name} with ${q.consumers} consumer(s)`).join(', ')} still there after close()`,
        1000,
      ).catch((failure: CheckFailure) => {
        throw new CheckFailure(failure.expected, failure.seen, 'In close(), cancel the reply consumer (keep the consumerTag that consume gave you); an auto-delete reply queue then goes by itself.');
      });
      expectThat(thrown.length === 0 && second.thrown.length === 0, 'no errors on the client channels', () => `your code threw: ${describeError(thrown[0] ?? second.thrown[0])}`);
    },
  },
  {
    id: '07.serve-replies',
    name: 'serve answers each hand-made request on its reply_to queue with the same correlation id and the JSON result (null for none), and acks every request, those without reply_to too',
    hint: "Reply to the request's replyTo with its correlationId, the handler's result as JSON; then ack. A request without replyTo has nobody to answer: ack it and move on.",
    async run({ layer, connect }) {
      const connection = await connect();
      const channel = await connection.createChannel();
      const queue = await freshQueue(channel);
      const serverChannel = await connection.createChannel();
      serverChannel.on('error', () => {});
      const server = await layer.serve(serverChannel, queue, async (request) => {
        const { orderId } = (request ?? {}) as { orderId?: string };
        return orderId === 'C-3' ? undefined : { orderId, status: 'paid' };
      });

      // One request nobody can be answered for, then three callers, each with its own reply queue:
      // each answer must go to the one that asked.
      channel.sendToQueue(queue, Buffer.from(JSON.stringify({ orderId: 'no-reply-to' })), { contentType: JSON_TYPE });
      const callers = [];
      for (const [orderId, wanted] of [['A-1', { orderId: 'A-1', status: 'paid' }], ['B-2', { orderId: 'B-2', status: 'paid' }], ['C-3', null]] as const) {
        const { queue: replyTo } = await channel.assertQueue('', { exclusive: true });
        const correlationId = `corr-${orderId}`;
        channel.sendToQueue(queue, Buffer.from(JSON.stringify({ orderId })), { replyTo, correlationId, contentType: JSON_TYPE });
        callers.push({ orderId, wanted, replyTo, correlationId });
      }
      for (const { orderId, wanted, replyTo, correlationId } of callers) {
        const reply = await replyIn(channel, replyTo, `a reply for ${orderId} in ${replyTo} (the request's reply_to)`, () => 'nothing arrived there');
        expectThat(reply.properties.correlationId === correlationId, `correlation id "${correlationId}" on the reply`, `"${reply.properties.correlationId}"`, "Copy the request's correlationId onto the reply: it is how the caller finds its call.");
        const body = parsed(reply);
        if (body === undefined) throw new CheckFailure('a JSON reply body', `"${reply.content.toString('utf8').slice(0, 80)}"`);
        const failed = Boolean(reply.properties.headers?.['x-rpc-error']);
        expectThat(
          !failed && isDeepStrictEqual(body, wanted),
          `the handler's result ${JSON.stringify(wanted)} as the reply`,
          `${JSON.stringify(body)}${failed ? ' marked as an error' : ''}`,
          wanted === null ? 'A handler that returns nothing is answered with null: JSON.stringify(undefined) is not a string.' : 'The handler gets the parsed request, and its result goes back as JSON.',
        );
      }

      await server.stop();
      await serverChannel.close().catch(() => {}); // anything still unacked goes back to the queue
      const back: unknown[] = [];
      for (let message = await channel.get(queue, { noAck: true }); message; message = await channel.get(queue, { noAck: true })) back.push(parsed(message));
      const withoutReplyTo = back.some((body) => isDeepStrictEqual(body, { orderId: 'no-reply-to' }));
      expectThat(
        back.length === 0,
        'all four requests acked, the one without reply_to too',
        `${back.length} request(s) back in the queue, never acked: ${back.map((body) => JSON.stringify(body)).join(', ')}`,
        withoutReplyTo ? 'A request without replyTo cannot be answered, but it must still be settled: ack it.' : 'Ack each request once its reply is sent.',
      );
    },
  },
  {
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
      channel.sendToQueue(queue, Buffer.from(JSON.stringify({ orderId: 'crash-1' })), { replyTo, correlationId: 'crash-1', contentType: JSON_TYPE });
      await waitFor(() => working || undefined, 'serve to hand the request to the handler', () => 'the handler was never called', 2000);
      relay.cut();
      await waitFor(
        async () => ((await waitingIn(queue)) === 1 ? true : undefined),
        'the request back in the queue once the server died during the work',
        () => 'the queue is empty: the request is lost. It was settled before the work was done (acked early, or consumed with noAck)',
        1500,
      ).catch((failure: CheckFailure) => {
        throw new CheckFailure(failure.expected, failure.seen, 'Consume requests with manual acks (noAck: false) and ack a request only once its reply is sent.');
      });

      // 2. A second server gets it, and its connection dies right after the first thing it does:
      //    the reply, or the ack. Either the reply went out, or the request comes back.
      const cutting = relay.cutAfterFirstSettleOrPublish();
      await layer.serve(await serverChannelThrough(context, relay.url, thrown), queue, async (request) => ({ answered: (request as { orderId?: string }).orderId }));
      const first = await settle(cutting, 2000);
      expectThat('resolved' in first, 'the second server to answer the redelivered request', 'it neither replied nor acked');
      const outcome = await waitFor(
        async () => ((await waitingIn(replyTo)) > 0 ? 'answered' : (await waitingIn(queue)) > 0 ? 'redelivered' : undefined),
        'the request answered, or back in the queue',
        () => 'neither',
        1000,
      ).catch(() => {
        const acked = 'resolved' in first && first.resolved === 'settle';
        throw new CheckFailure(
          'the request answered, or back in the queue, when the server dies right after its first step',
          acked
            ? 'the server acked the request, then its connection died before the reply went out: the request is gone and its caller never gets an answer'
            : "the server published something first, but no reply reached the request's reply_to, and the request did not come back",
          acked ? 'Send the reply first, then ack the request.' : "Reply to the request's replyTo, then ack it.",
        );
      });
      expectThat(outcome === 'answered' || outcome === 'redelivered', 'the request answered or redelivered', outcome);
      expectThat(thrown.length === 0, 'no errors from the server', () => `your server threw: ${describeError(thrown[0])}`);
    },
  },
  {
    id: '07.remote-error',
    name: "a handler that throws makes the call reject with the handler's message, its request is settled once, and the server keeps serving",
    hint: 'In serve, catch the handler error and reply { error: message } with the x-rpc-error header, then ack; in the client, reject the call with new Error(body.error) when the header is set.',
    async run({ layer, reference, connect, onCleanup }) {
      const connection = await connect();
      const { channel, thrown } = await watchedChannel(connection, onCleanup);
      const expectRemoteError = (outcome: Outcome, who: string, hintWhenResolved: string) => {
        const error = 'rejected' in outcome ? outcome.rejected : undefined;
        expectThat(
          error instanceof Error && !isTimeout(error) && error.message.includes('order 42 is unknown'),
          `${who}: the call to reject with the message "order 42 is unknown"`,
          () => (isTimeout(error) ? 'it timed out: no reply came back' : describeOutcome(outcome)),
          'resolved' in outcome ? hintWhenResolved : isTimeout(error) ? 'When the handler throws, send an error reply: the caller should not wait for its timeout.' : undefined,
        );
      };

      // Your server, the reference client.
      const queue = await freshQueue(channel);
      let failures = 0;
      const serverChannel = await connection.createChannel();
      const server = await layer.serve(serverChannel, queue, async (request) => {
        const { orderId } = (request ?? {}) as { orderId?: string };
        if (orderId === '42') {
          failures++;
          throw new Error('order 42 is unknown');
        }
        return { orderId, status: 'paid' };
      });
      const referenceClient = await reference.rpc.createClient(await connection.createChannel(), { timeoutMs: 1500 });
      onCleanup(() => referenceClient.close());
      expectRemoteError(await settle(referenceClient.call(queue, { orderId: '42' }), 2000), 'your server', 'Mark the error reply with the header x-rpc-error: true, so the caller can tell it from a result.');
      const next = await settle(referenceClient.call(queue, { orderId: '43' }), 2000);
      expectThat('resolved' in next && isDeepStrictEqual(next.resolved, { orderId: '43', status: 'paid' }), 'your server to answer the next request after a handler error', describeOutcome(next));

      // Your client, the reference server.
      const failing = await freshQueue(channel);
      await reference.rpc.serve(await connection.createChannel(), failing, async () => {
        throw new Error('order 42 is unknown');
      });
      const client = await layer.createClient(channel, { timeoutMs: 1500 });
      onCleanup(() => client.close());
      expectRemoteError(await settle(client.call(failing, { orderId: '42' }), 2000), 'your client', 'A reply with the x-rpc-error header is an error: reject the call with new Error(body.error).');
      expectThat(thrown.length === 0, 'no errors on the client channel', () => `your code threw: ${describeError(thrown[0])}`);

      // The failed request was settled once: nothing comes back when the server's channel closes.
      await server.stop();
      await serverChannel.close().catch(() => {});
      const { messageCount } = await channel.checkQueue(queue);
      expectThat(
        messageCount === 0 && failures === 1,
        'the request whose handler threw settled once, after its error reply',
        messageCount > 0
          ? `it is back in the queue (handled ${failures} time(s)): it was ${failures > 1 ? 'requeued' : 'never acked'}`
          : `it was handled ${failures} times`,
        failures > 1 ? 'A request whose handler threw would fail again: ack it after the error reply, do not requeue it.' : 'Ack the request after its error reply, as after any reply.',
      );
    },
  },
  {
    id: '07.in-the-system',
    name: 'with your RPC in the order system, GET /orders/:id/payment answers from the payment service',
    hint: 'Both sides are yours here: the order service calls with your client, the payment service answers with your serve.',
    timeoutMs: 8000,
    async run({ layer, connect, startSystem }) {
      // A round trip with your layer alone first: a missing piece shows here, not as a hung service.
      const connection = await connect();
      const probe = await connection.createChannel();
      const queue = await freshQueue(probe);
      const server = await layer.serve(await connection.createChannel(), queue, async () => 'pong');
      const client: RpcClient = await layer.createClient(await connection.createChannel(), { timeoutMs: 1000 });
      const pong = await settle(client.call(queue, 'ping'), 1500);
      expectThat('resolved' in pong && pong.resolved === 'pong', 'a round trip with your client and server', describeOutcome(pong));
      await client.close();
      await server.stop();

      const system = await startSystem({ services: ['order', 'payment'] });
      // Two orders the order service took; the payment service has charged one of them.
      const orders = new OrderStore(system.runtime('order').db);
      for (const orderId of ['rpc-7', 'rpc-8']) orders.insert({ orderId, user: 'gayal', items: [{ sku: 'item1', quantity: 1 }], express: false });
      new PaymentStore(system.runtime('payment').db).insert({ orderId: 'rpc-7', paymentId: 'pay_rpc7', amount: 2400, status: 'paid', reason: null });
      for (const [orderId, wanted] of [
        ['rpc-7', { orderId: 'rpc-7', paymentId: 'pay_rpc7', amount: 2400, status: 'paid', reason: null }],
        ['rpc-8', { orderId: 'rpc-8', status: 'unknown' }],
      ] as const) {
        const response = await fetch(`${system.baseUrl}/orders/${orderId}/payment`);
        const body = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
        expectThat(response.status === 200, `GET /orders/${orderId}/payment to answer 200`, `${response.status} ${JSON.stringify(body)}`);
        const { createdAt: _createdAt, ...answer } = body ?? {};
        expectThat(isDeepStrictEqual(answer, wanted), `the payment service's answer ${JSON.stringify(wanted)}`, JSON.stringify(body));
      }
    },
  },
]);
