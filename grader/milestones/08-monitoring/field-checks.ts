// Milestone 8's checks on what queueStats reads from an answer: the counts from their own fields,
// fresh on every call, and the sampled rates.
import type { QueueStats } from '../../../shared/layers/08-monitoring.ts';
import { type Check, type CheckContext, expectThat } from '../../check.ts';
import type { FakeManagementApi } from './fake-management-api.ts';
import { unsampled } from './fake-management-api.ts';
import { ask, countHints, type Counts, describeCounts, expectStats, fake, sampled, UNSAMPLED_HINT } from './layer-calls.ts';

/** The checks that compare counts read them as 08.counts does: a wrong field (ready, unacked, consumers) fails them too. */
export const READS_COUNTS = ['08.counts'];

export const counts: Check<'monitoring'> = {
  id: '08.counts',
  name: 'queueStats reads ready, unacked and consumers from their own fields, 0 for a queue not sampled yet',
  hint: 'Each number has a field of its own in the answer (the README shows one); a field the answer lacks counts as 0.',
  async run(context) {
    const api = await fake(context);
    const entry = { ready: 8, unacked: 4, consumers: 3 };
    api.setQueues('shop', [sampled('inventory.queue', entry, { publish: 12, publish_details: { rate: 0 } }), unsampled('new.queue')]);
    const stats = await ask('queueStats(inventory.queue)', () => context.layer.queueStats(api.target('shop'), 'inventory.queue'), api);
    expectStats(
      stats,
      'inventory.queue',
      entry,
      'queueStats for a queue with 8 ready and 4 unacked messages (12 in all) and 3 consumers',
      countHints(entry),
    );
    const fresh = await ask(
      'queueStats(new.queue), a queue the broker has not sampled yet',
      () => context.layer.queueStats(api.target('shop'), 'new.queue'),
      api,
      UNSAMPLED_HINT,
    );
    expectStats(
      fresh,
      'new.queue',
      { ready: 0, unacked: 0, consumers: 0, publishRate: 0, deliverRate: 0 },
      'queueStats for a queue the broker has not sampled yet (only its name and settings)',
      () => UNSAMPLED_HINT,
    );
  },
};

/** inventory.queue as `call` reports it (listQueueStats: its entry), or undefined. */
async function inventoryAsReported(
  context: CheckContext<'monitoring'>,
  api: FakeManagementApi,
  call: 'queueStats' | 'listQueueStats',
): Promise<QueueStats | undefined> {
  const target = api.target('shop');
  if (call === 'queueStats') return ask('queueStats(inventory.queue)', () => context.layer.queueStats(target, 'inventory.queue'), api);
  return (await ask('listQueueStats()', () => context.layer.listQueueStats(target), api))?.find?.((s) => s?.name === 'inventory.queue');
}

export const fresh: Check<'monitoring'> = {
  id: '08.fresh',
  name: 'every call asks the API again: numbers that changed between two calls show up',
  hint: 'The broker already samples; a cache in your layer adds a lag of its own and shows a depth that is gone. Ask the API on every call.',
  after: READS_COUNTS,
  async run(context) {
    const api = await fake(context);
    const states: Counts[] = [
      { ready: 40, unacked: 0, consumers: 1 },
      { ready: 41, unacked: 3, consumers: 2 },
      { ready: 2, unacked: 5, consumers: 4 },
      { ready: 0, unacked: 1, consumers: 1 },
    ];
    const calls: ['queueStats' | 'listQueueStats', number][] = [
      ['queueStats', 0],
      ['queueStats', 1],
      ['listQueueStats', 1],
      ['listQueueStats', 2],
      ['queueStats', 3],
    ];
    const history: string[] = [];
    for (const [call, state] of calls) {
      const counts = states[state] as Counts;
      api.setQueues('shop', [sampled('inventory.queue', counts)]);
      const before = api.requests.length;
      const answer = await inventoryAsReported(context, api, call);
      const asked = api.requests.length - before;
      history.push(`${call} → ${answer ? describeCounts(answer) : 'no inventory.queue'}`);
      const matches = answer?.ready === counts.ready && answer.unacked === counts.unacked && answer.consumers === counts.consumers;
      const fromCache = asked === 0 ? `: the last call sent no request to the API at all, so it answered from a cache` : '';
      expectThat(
        matches,
        `${call} after the depth changed to ${describeCounts(counts)} to report it`,
        () => `${history.join('; ')}${fromCache}`,
        asked === 0 ? 'Your layer answered from a cache: the broker already samples its numbers, so ask the API on every call.' : undefined,
      );
    }
  },
};

/** A hint for a rate that came back wrong: which number of the answer it was. */
function rateHint(field: string, seen: unknown): string | undefined {
  if (seen === 120 || seen === 40 || seen === 5)
    return 'That is a count (message_stats.publish or deliver_get): the rate is the `rate` of publish_details or deliver_get_details.';
  if (seen === 0.6) return 'deliver_details counts consumer deliveries only; deliverRate is deliver_get_details, which adds basic.get.';
  if (field === 'publishRate' && seen === 0.8) return 'publishRate and deliverRate are swapped.';
  if (seen === 0) return 'The broker sampled this queue: its rates are in message_stats, not 0.';
  if (seen === undefined || Number.isNaN(seen)) return 'A rate the answer does not hold is 0, a number.';
  return undefined;
}

/** audit.queue busy (counts next to rates in message_stats), quiet.queue without deliveries, fresh.queue not sampled. */
function setRatesQueues(api: FakeManagementApi): void {
  const busy = { ready: 80, unacked: 0, consumers: 1 };
  api.setQueues('shop', [
    sampled('audit.queue', busy, {
      publish: 120,
      publish_details: { rate: 2.4 },
      deliver_get: 40,
      deliver_get_details: { rate: 0.8 },
      deliver: 30,
      deliver_details: { rate: 0.6 },
      get: 10,
      get_details: { rate: 0.2 },
      ack: 28,
      ack_details: { rate: 0.5 },
      redeliver: 0,
      redeliver_details: { rate: 0 },
    }),
    sampled('quiet.queue', { ready: 5, unacked: 0, consumers: 0 }, { publish: 5, publish_details: { rate: 0 } }),
    unsampled('fresh.queue'),
  ]);
}

export const rates: Check<'monitoring'> = {
  id: '08.rates',
  name: "publishRate and deliverRate are the API's sampled rates (publish_details and deliver_get_details), 0 when there are none",
  hint: 'A rate is the `rate` inside a `*_details` object of message_stats; the bare numbers next to them are counts. No message_stats: 0.',
  async run(context) {
    const api = await fake(context);
    setRatesQueues(api);
    const target = api.target('shop');
    const audit = await ask('queueStats(audit.queue)', () => context.layer.queueStats(target, 'audit.queue'), api);
    expectStats(
      audit,
      'audit.queue',
      { publishRate: 2.4, deliverRate: 0.8 },
      'queueStats for a queue published to at 2.4/s and delivered from at 0.8/s (0.6 to consumers, 0.2 by basic.get)',
      rateHint,
    );
    const quiet = await ask('queueStats(quiet.queue)', () => context.layer.queueStats(target, 'quiet.queue'), api);
    expectStats(
      quiet,
      'quiet.queue',
      { publishRate: 0, deliverRate: 0 },
      'queueStats for a queue with a publish rate of 0 and no deliveries ever (no deliver_get_details)',
      rateHint,
    );
    const freshStats = await ask(
      'queueStats(fresh.queue), a queue with no message_stats yet',
      () => context.layer.queueStats(target, 'fresh.queue'),
      api,
      UNSAMPLED_HINT,
    );
    expectStats(
      freshStats,
      'fresh.queue',
      { publishRate: 0, deliverRate: 0 },
      'queueStats for a queue with no message_stats yet',
      rateHint,
    );
    const listed = await ask(
      'listQueueStats() (fresh.queue is not sampled yet)',
      () => context.layer.listQueueStats(target),
      api,
      UNSAMPLED_HINT,
    );
    const inList = Array.isArray(listed) ? listed.find((s) => s?.name === 'audit.queue') : undefined;
    expectStats(inList, 'audit.queue', { publishRate: 2.4, deliverRate: 0.8 }, "listQueueStats' entry for audit.queue", rateHint);
  },
};
