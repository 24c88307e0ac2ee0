// Milestone 9's checks on the learner's pool: workers on channels of their own share the load, a slow
// one holds only its own share, and scaleTo grows and shrinks the pool without losing a message or
// leaving a channel open, a worker that fails to start included.
import type { ConfirmChannel } from 'amqplib';
import { type Check, expectThat } from '../../check.ts';
import { waitFor } from '../../checks/support.ts';
import { census, count, countsOff, pause, publishMany, startPool, workersRunning, workQueue } from './pool-harness.ts';

export const shareLoad: Check<'scaling'> = {
  id: '09.share-load',
  name: '3 workers share 30 messages, each on a channel of its own: every worker gets some, and each message is handled once',
  hint: 'Each worker is a channel from openChannel with one consumer from startConsumer on it; pool.size says how many run.',
  async run(context) {
    const { channel, queue, channels } = await workQueue(context);
    const perWorker = new Map<number, number>();
    const handled = new Map<string, number>();
    const start = workersRunning(context.reference, queue, 1, async (n, message) => {
      await pause(2); // a little work, as a real handler does
      perWorker.set(n, (perWorker.get(n) ?? 0) + 1);
      count(handled, message.properties.messageId);
    });
    const pool = await startPool(context, channels, start, 3);
    const workerChannels = new Set(start.channelOf);
    expectThat(
      pool.size === 3 && start.channelOf.length === 3,
      'startWorkers(…, 3) to start 3 workers (pool.size 3)',
      `pool.size ${pool.size}, ${start.channelOf.length} consumer(s) started`,
    );
    expectThat(
      workerChannels.size === 3 && channels.opened.length === 3,
      'each of the 3 workers to consume on a channel of its own, opened with openChannel',
      `${channels.opened.length} channel(s) opened for ${start.channelOf.length} workers; they consume on ${workerChannels.size} distinct channel(s)`,
      workerChannels.size < 3
        ? 'Open one channel per worker: with one shared channel, stopping one worker closes the channel under the others.'
        : undefined,
    );

    const ids = await publishMany(channel, queue, 30);
    const total = () => [...handled.values()].reduce((a, b) => a + b, 0);
    await waitFor(
      () => (total() >= 30 ? true : undefined),
      'all 30 messages handled',
      () => `${total()} handled, by ${perWorker.size} worker(s)`,
    );
    const shares = [0, 1, 2].map((n) => perWorker.get(n) ?? 0);
    expectThat(
      shares.every((c) => c > 0),
      'every one of the 3 workers to handle some of the 30',
      `per worker: ${shares.join(', ')}`,
    );
    const off = countsOff(ids, handled);
    expectThat(off === '', 'each of the 30 handled exactly once', off);
  },
};

export const slowWorker: Check<'scaling'> = {
  id: '09.slow-worker',
  name: 'a slow worker holds only the message it is working on, and the other workers take the rest',
  hint: "Give each worker its own channel, so the prefetch window layer 5 sets is that worker's alone: a stuck worker then holds only its own share.",
  async run(context) {
    const { channel, queue, channels } = await workQueue(context);
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    let slowHolds = 0;
    let fastHandled = 0;
    await startPool(
      context,
      channels,
      workersRunning(context.reference, queue, 1, async (n) => {
        if (n > 0) return void fastHandled++;
        slowHolds++;
        await released; // worker 0 is stuck on its first message until the check ends
      }),
      3,
    );
    context.onCleanup(() => release()); // runs before the pool's stop (last registered, first run), which waits for it

    await publishMany(channel, queue, 20);
    await waitFor(
      () => (fastHandled >= 19 ? true : undefined),
      'the 2 other workers to handle the 19 messages the slow one does not hold',
      () =>
        `they handled ${fastHandled}; the slow worker holds ${slowHolds}. Do the workers share one channel, and with it one prefetch window?`,
      2000,
    );
    expectThat(slowHolds === 1, 'the slow worker (prefetch 1) to hold just 1 message', `it got ${slowHolds}`);
  },
};

export const scaleDown: Check<'scaling'> = {
  id: '09.scale-down',
  name: 'scaling from 3 workers to 1 in the middle of a load loses nothing, handles each message once, and closes the leaving channels',
  hint: 'A leaving worker lets go of its messages the graceful way: no new deliveries, the ones it holds finished and acked, and only then its channel closed.',
  async run(context) {
    const { channel, queue, channels } = await workQueue(context);
    const ids = await publishMany(channel, queue, 90);
    const handled = new Map<string, number>();
    const total = () => [...handled.values()].reduce((a, b) => a + b, 0);
    const pool = await startPool(
      context,
      channels,
      workersRunning(context.reference, queue, 5, async (_n, message) => {
        await pause(10 + Math.random() * 20); // work under way when the pool shrinks
        count(handled, message.properties.messageId);
      }),
      3,
    );

    await waitFor(
      () => (total() >= 20 ? true : undefined),
      'the load under way',
      () => `${total()} handled`,
    );
    await pool.scaleTo(1); // the two newest workers finish what they hold, then leave
    const after = await census(channel, queue, pool, channels);
    expectThat(
      pool.size === 1 && after.consumers === 1 && after.open === 1,
      'one worker left once scaleTo(1) resolved: 1 consumer and 1 channel open',
      after.line,
      after.open > 1 && after.consumers === 1
        ? "The leaving workers' consumers stopped, but their channels stayed open: close each one once its consumer is done (and wait for it)."
        : undefined,
    );
    await waitFor(
      () => (handled.size >= ids.length ? true : undefined),
      `all ${ids.length} messages handled by the worker that stayed`,
      () => `${handled.size} of ${ids.length} handled`,
    );
    await pool.stop();
    const off = countsOff(ids, handled);
    const handedBackHalfDone = off.includes('more than once')
      ? 'A channel closed while its consumer still works hands the unacked messages back to the broker: wait for the consumer to finish first.'
      : undefined;
    expectThat(
      off === '',
      `each of the ${ids.length} handled exactly once`,
      `${off}: the messages a leaving worker held were handed back half-done`,
      handedBackHalfDone,
    );
    const { messageCount } = await channel.checkQueue(queue);
    expectThat(
      messageCount === 0,
      'every message acked: none back in the queue after the pool stopped',
      `${messageCount} back in the queue`,
    );
  },
};

export const scaleTo: Check<'scaling'> = {
  id: '09.scale-to',
  name: 'scaleTo adds and removes workers: consumers and open channels go 1, 3, 1, 0, 2 as scaleTo resolves',
  hint: 'scaleTo resolves once the pool is the size asked for: new workers consuming, leaving ones stopped and their channels closed.',
  async run(context) {
    const { channel, queue, channels } = await workQueue(context);
    const pool = await startPool(
      context,
      channels,
      workersRunning(context.reference, queue, 1, async () => {}),
      1,
    );
    const steps: string[] = [];
    for (const target of [undefined, 3, 1, 0, 2]) {
      if (target !== undefined) await pool.scaleTo(target);
      const openRightAfter = channels.openCount(); // read the moment scaleTo resolved
      const { line, consumers, open } = await census(channel, queue, pool, channels, openRightAfter);
      const step = target === undefined ? 'start(1)' : `scaleTo(${target})`;
      steps.push(`${step} → ${line}`);
      const wanted = target ?? 1;
      expectThat(
        consumers === wanted && pool.size === wanted && open === wanted,
        `${wanted} consumer(s) on the queue, pool.size ${wanted} and ${wanted} channel(s) open`,
        steps.join('; '),
        open > wanted && consumers <= wanted
          ? 'The leaving workers stopped consuming, but their channels were still open when scaleTo resolved: close them, and wait for the close.'
          : undefined,
      );
    }
  },
};

export const failedStart: Check<'scaling'> = {
  id: '09.failed-start',
  name: 'a worker that fails to start leaves no channel open: scaleTo rejects with its error, and the pool still resizes',
  hint: "When startConsumer throws, the channel just opened for that worker is closed before the error goes on to scaleTo's caller.",
  async run(context) {
    const { channel, queue, channels } = await workQueue(context);
    const running = workersRunning(context.reference, queue, 1, async () => {});
    let calls = 0;
    const refusal = new Error('the consumer could not start (the check refuses the third one)');
    const start = (workerChannel: ConfirmChannel) => (++calls === 3 ? Promise.reject(refusal) : running(workerChannel));
    const pool = await startPool(context, channels, start, 1);

    let outcome = 'it resolved';
    try {
      await pool.scaleTo(3);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      outcome = error === refusal ? 'rejected' : `it rejected with another error: ${message}`;
    }
    expectThat(
      outcome === 'rejected',
      'scaleTo(3) to reject with the error of the worker that could not start',
      outcome,
      'Let the error of startConsumer reach the caller of scaleTo: a pool smaller than asked for must not look like success.',
    );
    const failed = await census(channel, queue, pool, channels);
    expectThat(
      failed.open === failed.consumers && pool.size === failed.consumers,
      "after the failed start, as many channels open as workers running (the failed worker's channel closed)",
      failed.line,
      failed.open > failed.consumers
        ? 'The channel opened for the worker that failed to start is still open: close it before passing the error on.'
        : undefined,
    );
    for (const target of [0, 1]) {
      await pool.scaleTo(target);
      const { line, consumers, open } = await census(channel, queue, pool, channels);
      expectThat(
        consumers === target && open === target && pool.size === target,
        `the pool still resizes after the failure: scaleTo(${target}) → ${target} consumer(s), ${target} channel(s)`,
        line,
      );
    }
  },
};
