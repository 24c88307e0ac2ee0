// Milestone 8: monitoring. Each check puts queues into a known state (messages waiting, messages
// held unacked, consumers), waits until the broker's own statistics show that state (they are
// sampled every collect_statistics_interval, 5 s by default), then asks the learner's layer and
// compares. The checks run concurrently, so they wait for the samples together.
import amqp from 'amqplib';
import { withVhost } from '../../shared/broker/broker-url.ts';
import { ExerciseNotWrittenError } from '../../shared/workshop/exercise.ts';
import type { ManagementTarget, QueueStats } from '../../shared/layers/08-monitoring.ts';
import { type CheckContext, CheckFailure, defineChecks, expectThat } from '../check.ts';
import { waitFor } from './support.ts';

/** The broker's next sample can be up to 5 s away; a bit more for a busy broker. */
const SAMPLE_WAIT_MS = 11_000;
const CALL_LIMIT_MS = 5_000;

interface RawQueue {
  messages_ready?: number;
  messages_unacknowledged?: number;
  consumers?: number;
  message_stats?: { publish?: number; deliver_get?: number; publish_details?: { rate: number }; deliver_get_details?: { rate: number } };
}

type Counts = Pick<QueueStats, 'ready' | 'unacked' | 'consumers'>;

const describeCounts = (c: Partial<Counts>) => `ready ${c.ready}, unacked ${c.unacked}, consumers ${c.consumers}`;
const shortList = (names: unknown[]) => (names.length === 0 ? 'nothing' : `${names.slice(0, 8).join(', ')}${names.length > 8 ? `, ... (${names.length} queues)` : ''}`);
const whyFailed = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

/** What the management API itself says about a queue (the check's ground truth). */
function rawQueue(context: CheckContext, vhost: string, queue: string): Promise<RawQueue> {
  return context.vhost.api.request<RawQueue>('GET', `/queues/${encodeURIComponent(vhost)}/${encodeURIComponent(queue)}`);
}

/** Waits until the broker's statistics show the counts the check set up (a fresh sample). */
async function waitForSample(context: CheckContext, vhost: string, queue: string, expected: Counts, extra: (raw: RawQueue) => boolean = () => true): Promise<RawQueue> {
  let last: RawQueue = {};
  return waitFor(
    async () => {
      last = await rawQueue(context, vhost, queue);
      const matches = last.messages_ready === expected.ready && last.messages_unacknowledged === expected.unacked && last.consumers === expected.consumers;
      return matches && extra(last) ? last : undefined;
    },
    `the broker's own statistics for ${queue} to show ${describeCounts(expected)} (it samples every 5 s)`,
    () => `after ${SAMPLE_WAIT_MS / 1000} s they still show ${describeCounts({ ready: last.messages_ready, unacked: last.messages_unacknowledged, consumers: last.consumers })}`,
    SAMPLE_WAIT_MS,
  );
}

/** Calls the learner's layer: an exercise not written propagates, anything else thrown becomes a failure saying what was asked. */
async function ask<T>(what: string, call: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const tooSlow = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckFailure(`${what} to answer within ${CALL_LIMIT_MS / 1000} s`, 'no answer: is a fetch missing its await, or its timeout?')), CALL_LIMIT_MS);
  });
  try {
    return await Promise.race([call(), tooSlow]);
  } catch (error) {
    if (error instanceof ExerciseNotWrittenError || error instanceof CheckFailure) throw error;
    throw new CheckFailure(`${what} to answer`, `it threw ${whyFailed(error)}`);
  } finally {
    clearTimeout(timer);
  }
}

/** Calls the layer once at the start, so a layer not written yet fails at once instead of after the sample wait. */
async function tryEarly(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (error) {
    if (error instanceof ExerciseNotWrittenError) throw error;
    // Anything else is judged later, on a fresh sample.
  }
}

/** Compares one QueueStats with the counts expected, field by field. */
function expectCounts(stats: QueueStats, queue: string, expected: Partial<Counts>, call: string): void {
  expectThat(stats?.name === queue, `${call} to report name "${queue}"`, () => `name ${JSON.stringify(stats?.name)}`);
  for (const [field, value] of Object.entries(expected) as [keyof Counts, number][]) {
    expectThat(stats[field] === value, `${call} to report ${field} ${value} (the broker's statistics say ${value})`, `${field} ${JSON.stringify(stats[field])}`);
  }
}

/** Publishes `count` small messages to a queue and waits for the broker's confirms. */
async function fill(channel: amqp.ConfirmChannel, queue: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) channel.sendToQueue(queue, Buffer.from(`message ${i + 1}`));
  await channel.waitForConfirms();
}

export const checks = defineChecks('monitoring', [
  {
    id: '08.ready',
    name: 'queueStats counts the messages waiting in a queue (ready)',
    hint: 'GET {baseUrl}/api/queues/{vhost}/{queue} with basic auth; ready is the field messages_ready (0 when it is missing).',
    timeoutMs: 15_000,
    async run(context) {
      const { layer, vhost } = context;
      const channel = await (await context.connect()).createConfirmChannel();
      await channel.assertQueue('inventory.queue', { durable: false });
      await fill(channel, 'inventory.queue', 7);
      await tryEarly(() => layer.queueStats(vhost.management, 'inventory.queue'));
      await waitForSample(context, vhost.name, 'inventory.queue', { ready: 7, unacked: 0, consumers: 0 });
      const stats = await ask('queueStats(inventory.queue)', () => layer.queueStats(vhost.management, 'inventory.queue'));
      expectCounts(stats, 'inventory.queue', { ready: 7 }, 'queueStats for a queue holding 7 messages nobody consumes');
    },
  },
  {
    id: '08.unacked',
    name: 'queueStats counts the messages consumers hold without acknowledging them (unacked)',
    hint: 'unacked is messages_unacknowledged; ready is messages_ready, not messages (which counts both).',
    timeoutMs: 15_000,
    async run(context) {
      const { layer, vhost } = context;
      const connection = await context.connect();
      const channel = await connection.createConfirmChannel();
      await channel.assertQueue('payment.queue', { durable: false });
      await fill(channel, 'payment.queue', 5);
      // A consumer that takes two and never acks them.
      const holder = await connection.createChannel();
      await holder.prefetch(2);
      await holder.consume('payment.queue', () => {}, { noAck: false });
      await tryEarly(() => layer.queueStats(vhost.management, 'payment.queue'));
      await waitForSample(context, vhost.name, 'payment.queue', { ready: 3, unacked: 2, consumers: 1 });
      const stats = await ask('queueStats(payment.queue)', () => layer.queueStats(vhost.management, 'payment.queue'));
      expectCounts(stats, 'payment.queue', { unacked: 2, ready: 3 }, 'queueStats for 5 messages, 2 of them held unacked by a consumer');
    },
  },
  {
    id: '08.consumers',
    name: 'queueStats counts the consumers of a queue',
    hint: 'consumers is the field consumers of the queue (0 when it is missing).',
    timeoutMs: 15_000,
    async run(context) {
      const { layer, vhost } = context;
      const connection = await context.connect();
      const first = await connection.createChannel();
      await first.assertQueue('shipping.queue', { durable: false });
      const second = await connection.createChannel();
      for (const channel of [first, first, second]) await channel.consume('shipping.queue', () => {}, { noAck: false });
      await tryEarly(() => layer.queueStats(vhost.management, 'shipping.queue'));
      await waitForSample(context, vhost.name, 'shipping.queue', { ready: 0, unacked: 0, consumers: 3 });
      const stats = await ask('queueStats(shipping.queue)', () => layer.queueStats(vhost.management, 'shipping.queue'));
      expectCounts(stats, 'shipping.queue', { consumers: 3 }, 'queueStats for a queue with 3 consumers on 2 channels');
    },
  },
  {
    id: '08.list',
    name: 'listQueueStats lists every queue of the vhost, and only those, sorted by name',
    hint: 'GET {baseUrl}/api/queues/{vhost} (with the vhost: /api/queues alone lists every vhost), map each entry like queueStats, then sort by name.',
    timeoutMs: 15_000,
    async run(context) {
      const { layer, vhost } = context;
      // A neighbour vhost with a queue of its own: it must not show up.
      const neighbour = `${vhost.name}-neighbour`;
      await vhost.api.createVhost(neighbour);
      context.onCleanup(() => vhost.api.deleteVhost(neighbour));
      const other = await amqp.connect(withVhost(vhost.url, neighbour));
      other.on('error', () => {});
      context.onCleanup(() => other.close().catch(() => {}));
      await (await other.createChannel()).assertQueue('neighbour.queue', { durable: false });

      const channel = await (await context.connect()).createConfirmChannel();
      const depths: Record<string, number> = { 'zeta.queue': 3, 'alpha.queue': 1, 'mid.queue': 2 };
      for (const [queue, depth] of Object.entries(depths)) {
        await channel.assertQueue(queue, { durable: false });
        await fill(channel, queue, depth);
      }
      await tryEarly(() => layer.listQueueStats(vhost.management));
      for (const [queue, depth] of Object.entries(depths)) await waitForSample(context, vhost.name, queue, { ready: depth, unacked: 0, consumers: 0 });

      const listed = await ask('listQueueStats()', () => layer.listQueueStats(vhost.management));
      const names = Array.isArray(listed) ? listed.map((stats) => stats?.name) : [];
      const expected = ['alpha.queue', 'mid.queue', 'zeta.queue'];
      expectThat(Array.isArray(listed), 'listQueueStats to return an array', () => JSON.stringify(listed)?.slice(0, 120) ?? String(listed));
      expectThat(
        names.join() === expected.join(),
        `listQueueStats to list ${expected.join(', ')} in that order (this vhost's queues, sorted by name)`,
        `${shortList(names)}${names.includes('neighbour.queue') ? ' (neighbour.queue is in another vhost)' : ''}`,
      );
      for (const stats of listed) expectCounts(stats, stats.name, { ready: depths[stats.name] ?? 0 }, `listQueueStats' entry for ${stats.name}`);
    },
  },
  {
    id: '08.refusals',
    name: 'when the management API refuses (unknown queue, wrong password), the error says so',
    hint: "Check response.ok before parsing: throw an Error naming the status (404, 401) and the path. Don't return zeros: a queue that does not exist is not an empty queue.",
    timeoutMs: 15_000,
    async run({ layer, vhost }) {
      const refused = async (what: string, call: () => Promise<unknown>, says: RegExp, meaning: string) => {
        let result: unknown;
        try {
          result = await ask(what, call);
        } catch (error) {
          if (!(error instanceof CheckFailure) || !error.seen.startsWith('it threw')) throw error;
          expectThat(says.test(error.seen), `${what} to fail with an error that says ${meaning}`, `an error that does not: ${error.seen.replace(/^it threw /, '').slice(0, 200)}`);
          return;
        }
        throw new CheckFailure(`${what} to fail with an error that says ${meaning}`, `it returned ${JSON.stringify(result)?.slice(0, 160)}`);
      };
      await refused("queueStats('no-such.queue')", () => layer.queueStats(vhost.management, 'no-such.queue'), /404|not.?found|no-such\.queue/i, 'the queue was not found (404)');
      const wrongPassword: ManagementTarget = { ...vhost.management, password: 'not-the-password' };
      await refused('listQueueStats() with a wrong password', () => layer.listQueueStats(wrongPassword), /401|unauthori[sz]ed|not.?authori[sz]ed|login|credentials|password/i, 'it was not authorised (401)');
    },
  },
  {
    id: '08.vhost-name',
    name: 'queueStats and listQueueStats work for a vhost with a slash in its name, like the default vhost /',
    hint: 'Encode the vhost in the URL path: encodeURIComponent(target.vhost) ("/" becomes %2F). The queue name too.',
    timeoutMs: 15_000,
    async run(context) {
      const { layer, vhost } = context;
      const slashed = `${vhost.name}/shop`;
      await vhost.api.createVhost(slashed);
      context.onCleanup(() => vhost.api.deleteVhost(slashed));
      const connection = await amqp.connect(withVhost(vhost.url, slashed));
      connection.on('error', () => {});
      context.onCleanup(() => connection.close().catch(() => {}));
      const channel = await connection.createConfirmChannel();
      await channel.assertQueue('order.queue', { durable: false });
      await fill(channel, 'order.queue', 2);
      const target: ManagementTarget = { ...vhost.management, vhost: slashed };
      await tryEarly(() => layer.queueStats(target, 'order.queue'));
      await waitForSample(context, slashed, 'order.queue', { ready: 2, unacked: 0, consumers: 0 });

      const stats = await ask(`queueStats on the vhost "${slashed}"`, () => layer.queueStats(target, 'order.queue'));
      expectCounts(stats, 'order.queue', { ready: 2 }, `queueStats on the vhost "${slashed}"`);
      const listed = await ask(`listQueueStats on the vhost "${slashed}"`, () => layer.listQueueStats(target));
      const names = Array.isArray(listed) ? listed.map((s) => s?.name) : [];
      expectThat(names.join() === 'order.queue', `listQueueStats on the vhost "${slashed}" to list order.queue`, shortList(names));
    },
  },
  {
    id: '08.rates',
    name: "publishRate and deliverRate are the broker's sampled rates, as numbers (0 before the first sample)",
    hint: 'Rates are message_stats.publish_details.rate and message_stats.deliver_get_details.rate (message_stats.publish is a count, not a rate). A queue not sampled yet has no message_stats: use 0.',
    timeoutMs: 15_000,
    async run(context) {
      const { layer, vhost } = context;
      const channel = await (await context.connect()).createConfirmChannel();

      // A queue declared this instant: the broker has no statistics for it yet.
      await channel.assertQueue('fresh.queue', { durable: false });
      const fresh = await ask('queueStats(fresh.queue)', () => layer.queueStats(vhost.management, 'fresh.queue'));
      for (const field of ['ready', 'unacked', 'consumers', 'publishRate', 'deliverRate'] as const) {
        expectThat(fresh?.[field] === 0, `queueStats for a queue created a moment ago to report ${field} 0 (the broker has no sample yet)`, () => `${field} ${JSON.stringify(fresh?.[field])}`);
      }

      // A busy queue: 30 published, 10 taken with basic.get.
      await channel.assertQueue('audit.queue', { durable: false });
      await fill(channel, 'audit.queue', 30);
      for (let i = 0; i < 10; i++) await channel.get('audit.queue', { noAck: true });
      const sampled = (raw: RawQueue) => raw.message_stats?.publish === 30 && raw.message_stats.deliver_get === 10 && raw.message_stats.publish_details !== undefined && raw.message_stats.deliver_get_details !== undefined;
      await waitForSample(context, vhost.name, 'audit.queue', { ready: 20, unacked: 0, consumers: 0 }, sampled);

      // Rates change with each sample: compare with the broker's figures read just before and just after.
      let compared = false;
      for (let attempt = 0; attempt < 5 && !compared; attempt++) {
        const before = (await rawQueue(context, vhost.name, 'audit.queue')).message_stats;
        const stats = await ask('queueStats(audit.queue)', () => layer.queueStats(vhost.management, 'audit.queue'));
        const after = (await rawQueue(context, vhost.name, 'audit.queue')).message_stats;
        const publishRate = before?.publish_details?.rate;
        const deliverRate = before?.deliver_get_details?.rate;
        if (publishRate !== after?.publish_details?.rate || deliverRate !== after?.deliver_get_details?.rate) continue; // a new sample came in between
        compared = true;
        expectThat(stats?.publishRate === publishRate, `publishRate ${publishRate} (message_stats.publish_details.rate; 30 were published in all)`, () => `publishRate ${JSON.stringify(stats?.publishRate)}`);
        expectThat(stats?.deliverRate === deliverRate, `deliverRate ${deliverRate} (message_stats.deliver_get_details.rate; 10 were delivered in all)`, () => `deliverRate ${JSON.stringify(stats?.deliverRate)}`);
      }
      expectThat(compared, "the broker's rates to hold still long enough to compare", 'they changed between every read');
    },
  },
]);
