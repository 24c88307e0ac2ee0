// How milestone 8's checks call the learner's layer and judge its answers: a fake management API
// per check, a call that must answer (or must refuse, or must give up) in time, and QueueStats
// compared field by field with a hint fitted to the mix-up seen.
import type { QueueStats } from '../../../shared/layers/08-monitoring.ts';
import { ExerciseNotWrittenError } from '../../../shared/workshop/exercise.ts';
import { type CheckContext, CheckFailure, expectThat } from '../../check.ts';
import { type FakeManagementApi, type FakeQueue, startFakeManagementApi, unsampled } from './fake-management-api.ts';

const CALL_LIMIT_MS = 3_000;
/** How long a call may wait for an API that never answers (the contract's bound), and the grace a busy machine gets on top. */
export const GIVE_UP_MS = 5_000;
export const GIVE_UP_GRACE_MS = 1_000;

export const UNSAMPLED_HINT =
  'A queue the broker has not sampled yet has only its name and settings: no messages_ready, no consumers, no message_stats. Each missing number is 0 (a number, not undefined), and parsing must not require them.';

export type Counts = Pick<QueueStats, 'ready' | 'unacked' | 'consumers'>;
const FIELDS = ['ready', 'unacked', 'consumers', 'publishRate', 'deliverRate'] as const;

export const describeCounts = (c: Partial<Counts>) => `ready ${c.ready}, unacked ${c.unacked}, consumers ${c.consumers}`;
export const describeStats = (s: unknown) => {
  if (typeof s !== 'object' || s === null) return JSON.stringify(s) ?? String(s);
  const stats = s as Record<string, unknown>;
  return `{ ${['name', ...FIELDS].map((f) => `${f}: ${JSON.stringify(stats[f]) ?? 'undefined'}`).join(', ')} }`;
};
export const shortList = (names: unknown[]) => {
  if (names.length === 0) return 'nothing';
  const more = names.length > 8 ? `, ... (${names.length} queues)` : '';
  return `${names.slice(0, 8).join(', ')}${more}`;
};
const whyFailed = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).replace(/\s+/g, ' ');

/** A queue entry as the API answers it once the broker has sampled it. */
export function sampled(name: string, counts: Counts, stats?: Record<string, unknown>): FakeQueue {
  const { ready, unacked, consumers } = counts;
  return {
    ...unsampled(name),
    messages: ready + unacked,
    messages_details: { rate: 0 },
    messages_ready: ready,
    messages_ready_details: { rate: 0 },
    messages_unacknowledged: unacked,
    messages_unacknowledged_details: { rate: 0 },
    consumers,
    consumer_utilisation: consumers > 0 ? 1 : null,
    memory: 14_000,
    ...(stats ? { message_stats: stats } : {}),
  };
}

/** A fake management API for this check, closed when it ends. */
export async function fake(context: CheckContext, options?: Parameters<typeof startFakeManagementApi>[0]): Promise<FakeManagementApi> {
  const api = await startFakeManagementApi(options);
  context.onCleanup(() => api.close());
  return api;
}

/** What the fake saw that explains a failure: wrong credentials, or the paths that were not found. */
function causeSeen(api: FakeManagementApi | undefined, from: number): { seen: string; hint?: string } {
  if (!api) return { seen: '' };
  const requests = api.requests.slice(from);
  const refused = requests.find((r) => r.status === 401);
  if (refused) {
    return {
      seen: `; the API answered 401 to the credentials sent (user ${JSON.stringify(refused.user ?? null)}; the target's user is "${api.username}")`,
      hint: "Send basic auth built from the target's own username and password, on every request (not guest/guest, not credentials inside the URL).",
    };
  }
  return { seen: `; the API saw: ${api.describeRequests(from)}` };
}

/** Calls the learner's layer: an exercise not written propagates, anything else thrown becomes a failure saying what was asked and what the API saw. */
export async function ask<T>(what: string, call: () => Promise<T>, api?: FakeManagementApi, hintOnThrow?: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const from = api?.requests.length ?? 0;
  const tooSlow = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new CheckFailure(
            `${what} to answer within ${CALL_LIMIT_MS / 1000} s`,
            'no answer: is a fetch missing its await, or a promise never resolved?',
          ),
        ),
      CALL_LIMIT_MS,
    );
  });
  try {
    return await Promise.race([Promise.resolve().then(call), tooSlow]);
  } catch (error) {
    if (error instanceof ExerciseNotWrittenError || error instanceof CheckFailure) throw error;
    const cause = causeSeen(api, from);
    throw new CheckFailure(`${what} to answer`, `it threw ${whyFailed(error)}`.slice(0, 300) + cause.seen, cause.hint ?? hintOnThrow);
  } finally {
    clearTimeout(timer);
  }
}

/** Calls the layer and returns what it threw (or fails the check if it answered). */
export async function refusal(what: string, call: () => Promise<unknown>, meaning: string, zerosHint: string): Promise<string> {
  let result: unknown;
  try {
    result = await ask(what, call);
  } catch (error) {
    if (!(error instanceof CheckFailure) || !error.seen.startsWith('it threw')) throw error;
    return error.seen.replace(/^it threw /, '');
  }
  throw new CheckFailure(
    `${what} to reject with an error that says ${meaning}`,
    `it answered ${JSON.stringify(result)?.slice(0, 160)}`,
    zerosHint,
  );
}

/**
 * Calls the layer against an API that never answers and says what it did within GIVE_UP_MS and the
 * grace: nothing when it rejected (it gave up), else what went wrong. It waits on a timer, not by
 * polling: a timeout of the layer's own that is due earlier fires first, however busy the machine.
 */
export async function againstSilence(what: string, call: () => Promise<unknown>): Promise<string | undefined> {
  type Outcome = { state: 'pending' } | { state: 'resolved'; value: unknown } | { state: 'rejected'; error: unknown };
  let outcome: Outcome = { state: 'pending' };
  const settled = Promise.resolve()
    .then(call)
    .then(
      (value: unknown) => void (outcome = { state: 'resolved', value }),
      (error: unknown) => void (outcome = { state: 'rejected', error }),
    );
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([settled, new Promise((resolve) => (timer = setTimeout(resolve, GIVE_UP_MS + GIVE_UP_GRACE_MS)))]);
  clearTimeout(timer);
  const seen = outcome as Outcome;
  if (seen.state === 'rejected' && seen.error instanceof ExerciseNotWrittenError) throw seen.error;
  if (seen.state === 'rejected') return undefined;
  if (seen.state === 'pending') return `${what} was still waiting after ${(GIVE_UP_MS + GIVE_UP_GRACE_MS) / 1000} s`;
  return `${what} answered ${JSON.stringify(seen.value)?.slice(0, 120)}, as if the API had`;
}

/** Compares one QueueStats with what is expected, field by field, with a hint fitted to the mix-up seen. */
export function expectStats(
  stats: QueueStats | undefined,
  queue: string,
  expected: Partial<QueueStats>,
  call: string,
  hints: (field: string, seen: unknown) => string | undefined = () => undefined,
): void {
  expectThat(stats?.name === queue, `${call} to report name "${queue}"`, () => describeStats(stats));
  for (const [field, value] of Object.entries(expected) as [keyof QueueStats, unknown][]) {
    const seen = stats?.[field];
    expectThat(seen === value, `${call} to report ${field} ${JSON.stringify(value)}`, () => `${describeStats(stats)}`, hints(field, seen));
  }
}

/** Hints for the count fields: which API field the number that came back was. */
export function countHints(entry: {
  ready: number;
  unacked: number;
  consumers: number;
}): (field: string, seen: unknown) => string | undefined {
  return (field, seen) => {
    if (field === 'ready' && seen === entry.ready + entry.unacked)
      return '`messages` counts ready and unacked together; ready is `messages_ready` alone.';
    if (field === 'ready' && seen === entry.unacked)
      return 'That is the unacked number: ready is `messages_ready`, unacked is `messages_unacknowledged`.';
    if (field === 'unacked' && seen === entry.ready) return 'That is the ready number: unacked is `messages_unacknowledged`.';
    if (seen === undefined || Number.isNaN(seen))
      return 'A number the answer does not hold counts as 0; and check the field names against the sample answer in the README.';
    return undefined;
  };
}
