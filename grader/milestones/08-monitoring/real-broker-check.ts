// 08.real-broker: the learner's layer against the real management API of the real broker, once the
// broker's own statistics show the state the check set up.
import type { ChannelModel } from 'amqplib';
import type { ManagementTarget } from '../../../shared/layers/08-monitoring.ts';
import { ExerciseNotWrittenError } from '../../../shared/workshop/exercise.ts';
import { CannotJudgeError, type Check, type CheckContext, CheckFailure, expectThat } from '../../check.ts';
import { waitFor } from '../../checks/support.ts';
import { READS_COUNTS } from './field-checks.ts';
import { ask, countHints, type Counts, describeCounts, describeStats, expectStats, shortList } from './layer-calls.ts';

/**
 * With collect_statistics_interval at 1 s a sample shows within a second or two, at the default 5 s
 * within about 5; a loaded broker takes longer. Only the broker decides how long this wait is, never
 * the graded code, so a generous deadline costs a failing layer nothing.
 */
const SAMPLE_WAIT_MS = 9_000;

/** What the real API says about a queue (the real-broker check's ground truth). */
function rawQueue(context: CheckContext, queue: string): Promise<Record<string, number | undefined>> {
  return context.vhost.api.request('GET', `/queues/${encodeURIComponent(context.vhost.name)}/${encodeURIComponent(queue)}`);
}

/** 7 messages in payment.queue, and two consumers on channels of their own that take 2 and 1 and never ack: 4 ready, 3 unacked. An empty.queue beside it. */
async function holdSomeUnacked(connection: ChannelModel): Promise<void> {
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue('payment.queue', { durable: false });
  await channel.assertQueue('empty.queue', { durable: false });
  for (let i = 0; i < 7; i++) channel.sendToQueue('payment.queue', Buffer.from(`charge ${i + 1}`));
  await channel.waitForConfirms();
  for (const prefetch of [2, 1]) {
    const holder = await connection.createChannel();
    await holder.prefetch(prefetch);
    await holder.consume('payment.queue', () => {}, { noAck: false });
  }
}

/** This wait is the broker's, not the layer's: a sample that never comes is "could not check". */
async function waitForBrokerSample(context: CheckContext, expected: Counts): Promise<void> {
  let last: Record<string, number | undefined> = {};
  const lastCounts = () => describeCounts({ ready: last.messages_ready, unacked: last.messages_unacknowledged, consumers: last.consumers });
  await waitFor(
    async () => {
      last = await rawQueue(context, 'payment.queue');
      return last.messages_ready === expected.ready &&
        last.messages_unacknowledged === expected.unacked &&
        last.consumers === expected.consumers
        ? true
        : undefined;
    },
    `the broker's own statistics for payment.queue to show ${describeCounts(expected)} (this wait is the broker's, not your layer's)`,
    () => `after ${SAMPLE_WAIT_MS / 1000} s they still show ${lastCounts()} (collect_statistics_interval may be long)`,
    SAMPLE_WAIT_MS,
  ).catch((error: unknown) => {
    throw error instanceof CheckFailure
      ? new CannotJudgeError(`the broker's statistics never showed what the check set up: ${error.message}`)
      : error;
  });
}

export const realBroker: Check<'monitoring'> = {
  id: '08.real-broker',
  name: "on the real broker, queueStats and listQueueStats give the counts the broker's own statistics show",
  hint: 'The real API answers the same fields as the sample in the README; compare your URL and fields with what `curl -u guest:guest localhost:15672/api/queues/%2F` shows.',
  after: READS_COUNTS,
  timeoutMs: 12_000,
  async run(context) {
    const { layer, vhost } = context;
    const target: ManagementTarget = vhost.management;
    await holdSomeUnacked(await context.connect());
    // A layer not written yet fails at once, not after the wait.
    await layer.queueStats(target, 'payment.queue').catch((error: unknown) => {
      if (error instanceof ExerciseNotWrittenError) throw error;
    });
    const expected: Counts = { ready: 4, unacked: 3, consumers: 2 };
    await waitForBrokerSample(context, expected);
    const stats = await ask('queueStats(payment.queue)', () => layer.queueStats(target, 'payment.queue'));
    const hints = countHints(expected);
    expectStats(stats, 'payment.queue', expected, 'queueStats for 7 messages, 3 of them held unacked by 2 consumers', hints);
    for (const field of ['publishRate', 'deliverRate'] as const) {
      expectThat(
        typeof stats[field] === 'number' && Number.isFinite(stats[field]) && stats[field] >= 0,
        `${field} to be a number of messages per second`,
        () => describeStats(stats),
      );
    }
    const listed = await ask('listQueueStats()', () => layer.listQueueStats(target));
    const names = Array.isArray(listed) ? listed.map((s) => s?.name) : [];
    expectThat(
      names.join() === 'empty.queue,payment.queue',
      "listQueueStats to list the vhost's empty.queue and payment.queue, in that order",
      () => shortList(names),
    );
    expectStats(
      listed.find((s) => s?.name === 'payment.queue'),
      'payment.queue',
      expected,
      "listQueueStats' entry for payment.queue",
      hints,
    );
    expectStats(
      listed.find((s) => s?.name === 'empty.queue'),
      'empty.queue',
      { ready: 0, unacked: 0, consumers: 0 },
      "listQueueStats' entry for empty.queue",
      hints,
    );
  },
};
