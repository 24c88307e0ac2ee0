// Milestone 7's checks on the learner's client against hand-written servers: replies in reverse
// order, nobody answering, and replies nobody is waiting for.
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { ChannelModel, ConsumeMessage } from 'amqplib';
import { describeError } from '../../../shared/log.ts';
import { type Check, type CheckContext, CheckFailure, expectThat } from '../../check.ts';
import { waitFor } from '../../checks/support.ts';
import { JSON_TYPE, parsed } from './replies.ts';
import { activeTimers, describeOutcome, freshQueue, isTimeout, settle, watchedChannel } from './support.ts';

const TIMEOUT_MS = 200;
const CALLS = 50;

/**
 * A hand-written server that collects the requests and answers them in reverse order: the replies
 * come back in another order than the calls went out. Returns what was wrong with the requests.
 */
async function reverseOrderServer(connection: ChannelModel, queue: string, onCleanup: CheckContext['onCleanup']) {
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
      server.sendToQueue(replyTo, Buffer.from(JSON.stringify({ doubled: typeof n === 'number' ? n * 2 : null })), {
        correlationId,
        contentType: JSON_TYPE,
      });
    }
  };
  await server.consume(
    queue,
    (request) => {
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
    },
    { noAck: true },
  );
  onCleanup(() => clearTimeout(idle));
  return faults;
}

function expectWellFormedRequests(faults: Awaited<ReturnType<typeof reverseOrderServer>>): void {
  expectThat(
    faults.noReplyTo === 0,
    'every request to carry reply_to (the queue its answer goes to)',
    `${faults.noReplyTo} of ${CALLS} requests had no reply_to`,
    'Send each request with the replyTo option: your reply queue.',
  );
  expectThat(
    faults.noCorrelationId === 0,
    'every request to carry a correlation_id',
    `${faults.noCorrelationId} of ${CALLS} requests had none`,
    'Send each request with the correlationId option, a fresh one per call.',
  );
  expectThat(
    faults.repeatedId === 0,
    'a fresh correlation id for every call',
    `${faults.repeatedId} requests reused an id another call had`,
    'Make the correlation id per call (randomUUID() inside call), not once per client.',
  );
}

export const concurrentCalls: Check<'rpc'> = {
  id: '07.concurrent-calls',
  name: '50 concurrent calls each get their own answer, and no timer is left running once they have',
  hint: 'Give every call a fresh correlationId, keep the pending calls in a Map by that id, and settle the one whose id the reply carries.',
  async run({ layer, connect, onCleanup }) {
    const connection = await connect();
    const { channel, thrown } = await watchedChannel(connection, onCleanup);
    const queue = await freshQueue(channel);
    const faults = await reverseOrderServer(connection, queue, onCleanup);
    const client = await layer.createClient(channel, { timeoutMs: 3000 });
    onCleanup(() => client.close());

    const timersBefore = activeTimers();
    const outcomes = await Promise.all(Array.from({ length: CALLS }, (_, n) => settle(client.call(queue, { n }), 3500)));
    const wrong = outcomes
      .map((outcome, n) => ({ n, outcome }))
      .filter(({ n, outcome }) => !('resolved' in outcome && isDeepStrictEqual(outcome.resolved, { doubled: n * 2 })));
    expectWellFormedRequests(faults);
    expectThat(
      wrong.length === 0,
      `call n ({"n": n}) to resolve with {"doubled": 2n}, for each of the ${CALLS}, though the replies come back in reverse order`,
      () =>
        `${wrong.length} wrong, e.g. ${wrong
          .slice(0, 3)
          .map(({ n, outcome }) => `call ${n}: ${describeOutcome(outcome)}`)
          .join('; ')}`,
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
};

export const timeout: Check<'rpc'> = {
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
      'pending' in outcome
        ? 'Nothing ends a call nobody answers: start a timer for each call.'
        : 'Reject with new RpcTimeoutError(queue, timeoutMs), the class from shared/layers/07-rpc.ts.',
    );
    expectThat(elapsed >= TIMEOUT_MS - 20, `the call to wait its ${TIMEOUT_MS} ms`, `it gave up after ${elapsed} ms`);
    expectThat(
      elapsed <= TIMEOUT_MS + 500,
      `the call to give up soon after ${TIMEOUT_MS} ms`,
      `it took ${elapsed} ms`,
      'The timer is in milliseconds: timeoutMs as it is.',
    );

    // The caller has given up: a server that comes late should not find the request and work for nobody.
    const check = await connection.createChannel();
    await waitFor(
      async () => ((await check.checkQueue(queue)).messageCount === 0 ? true : undefined),
      `the request to expire from ${queue} with the call's timeout`,
      () => 'it is still in the queue, waiting for a server, though its caller gave up',
      1000,
    ).catch((failure: CheckFailure) => {
      throw new CheckFailure(
        failure.expected,
        failure.seen,
        'Publish the request with a per-message TTL: expiration, a string of milliseconds (milestone 6).',
      );
    });
  },
};

/**
 * A hand-written server that answers every request twice: first with a stranger's correlation id
 * and a body that is not even JSON, then for real. It holds the request marked "late" back, and
 * answers it only while the next call waits.
 */
async function strayRepliesServer(connection: ChannelModel, queue: string): Promise<void> {
  const server = await connection.createChannel();
  let late: ConsumeMessage | undefined;
  await server.consume(
    queue,
    (request) => {
      if (!request?.properties.replyTo) return;
      const { replyTo, correlationId } = request.properties;
      const { which } = (parsed(request) ?? {}) as { which?: string };
      if (which === 'late') return void (late = request);
      if (late)
        server.sendToQueue(late.properties.replyTo, Buffer.from('"late"'), {
          correlationId: late.properties.correlationId,
          contentType: JSON_TYPE,
        });
      server.sendToQueue(replyTo, Buffer.from('not for you'), { correlationId: randomUUID(), contentType: 'text/plain' });
      server.sendToQueue(replyTo, Buffer.from('"yours"'), { correlationId, contentType: JSON_TYPE });
    },
    { noAck: true },
  );
}

export const strayReply: Check<'rpc'> = {
  id: '07.stray-reply',
  name: "a reply nobody is waiting for (a stranger's, or a late one for a call that timed out) is ignored, and the real replies still arrive",
  hint: "In the reply consumer, look the correlation id up in your pending calls first; when nothing is there, just return. Don't throw: an exception in a consume callback breaks the connection.",
  after: ['07.timeout'],
  async run({ layer, connect, onCleanup }) {
    const connection = await connect();
    const { channel, thrown } = await watchedChannel(connection, onCleanup);
    const queue = await freshQueue(channel);
    await strayRepliesServer(connection, queue);
    const client = await layer.createClient(channel, { timeoutMs: 300 });
    onCleanup(() => client.close());

    const own = async (which: string) => {
      const outcome = await settle(client.call(queue, { which }), 2000);
      expectThat(thrown.length === 0, 'the stray replies to be ignored', () => `your reply consumer threw: ${describeError(thrown[0])}`);
      expectThat(
        'resolved' in outcome && outcome.resolved === 'yours',
        `the ${which} call to resolve with its own reply "yours"`,
        describeOutcome(outcome),
      );
    };
    await own('first');
    const timedOut = await settle(client.call(queue, { which: 'late' }), 1500);
    expectThat(
      'rejected' in timedOut && isTimeout(timedOut.rejected),
      'the call the server holds back to time out',
      describeOutcome(timedOut),
    );
    await own('second'); // its own reply comes after the late reply to the call that timed out
  },
};
