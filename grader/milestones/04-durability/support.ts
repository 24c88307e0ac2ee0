// Milestone 4's check helpers: watching a publishConfirmed call settle without awaiting it, the
// listeners a channel carries, and what a broker restart depends on (so that one real restart per
// grading run is enough: another layer that leaves the broker in the same state gets the same verdict).
import type { ConfirmChannel } from 'amqplib';
import { PublishRejectedError } from '../../../shared/layers/04-durability.ts';
import { ExerciseNotWrittenError } from '../../../shared/workshop/exercise.ts';

export type Outcome = { state: 'pending' } | { state: 'resolved' } | { state: 'rejected'; error: unknown };

export interface Watched {
  now(): Outcome;
  /** Waits up to timeoutMs for it to settle; a layer not written yet fails the check here. */
  settled(timeoutMs?: number): Promise<Outcome>;
}

/** Calls publish once and records how its promise ends (a synchronous throw is recorded as `threw`). */
export function watchPublish(publish: () => Promise<void>): Watched & { threwSynchronously: boolean } {
  let outcome: Outcome = { state: 'pending' };
  let promise: Promise<void>;
  let threwSynchronously = false;
  try {
    promise = publish();
  } catch (error) {
    threwSynchronously = true;
    promise = Promise.reject(error);
  }
  const done = Promise.resolve(promise).then(
    () => (outcome = { state: 'resolved' }),
    (error: unknown) => (outcome = { state: 'rejected', error }),
  );
  const now = () => {
    if (outcome.state === 'rejected' && outcome.error instanceof ExerciseNotWrittenError) throw outcome.error;
    return outcome;
  };
  return {
    threwSynchronously,
    now,
    async settled(timeoutMs = 3000) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([done, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
      return now();
    },
  };
}

/** Waits for every watched publish together (they are in flight at once), within one deadline. */
export async function allSettled(watched: Watched[], timeoutMs = 3000): Promise<Outcome[]> {
  const deadline = Date.now() + timeoutMs;
  const outcomes: Outcome[] = [];
  for (const one of watched) outcomes.push(await one.settled(Math.max(0, deadline - Date.now())));
  return outcomes;
}

export const isRejection = (outcome: Outcome): outcome is { state: 'rejected'; error: PublishRejectedError } =>
  outcome.state === 'rejected' && outcome.error instanceof PublishRejectedError;

export function describeOutcome(outcome: Outcome): string {
  if (outcome.state === 'pending') return 'it was still waiting';
  if (outcome.state === 'resolved') return 'it resolved';
  const { error } = outcome;
  const impostor = error instanceof Error && error.name === 'PublishRejectedError' && !(error instanceof PublishRejectedError);
  return `it rejected with ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}${impostor ? ' (a class of your own: import PublishRejectedError from shared/layers/04-durability.ts)' : ''}`;
}

/** How many listeners the channel has, per event: what a layer added shows here. */
export function listenersOf(channel: ConfirmChannel): Map<string, number> {
  return new Map(channel.eventNames().map((event) => [String(event), channel.listenerCount(event)]));
}

/** The events whose listener count grew between two snapshots, e.g. "return: 1 → 201". */
export function grownListeners(before: Map<string, number>, after: Map<string, number>): string[] {
  return [...after]
    .filter(([event, count]) => count > (before.get(event) ?? 0))
    .map(([event, count]) => `'${event}': ${before.get(event) ?? 0} → ${count}`);
}

// ---- What a restart depends on ------------------------------------------------------------------

/**
 * What decides what a broker restart keeps: each exchange, queue and binding with its durability
 * and arguments, and the delivery mode of every waiting message. Two layers that leave the same
 * state behind get the same restart.
 */
export interface RestartState {
  exchanges: unknown[];
  queues: unknown[];
  bindings: unknown[];
  messages: Record<string, string[]>;
}

/** Verdicts of real restarts in this process, by the state they started from ('' for a pass). */
const restartVerdicts = new Map<string, { failure?: Error }>();

export function fingerprint(state: RestartState): string {
  const sorted = (items: unknown[]) => items.map((item) => JSON.stringify(item)).sort();
  return JSON.stringify({
    exchanges: sorted(state.exchanges),
    queues: sorted(state.queues),
    bindings: sorted(state.bindings),
    messages: state.messages,
  });
}

/**
 * Runs `restart` (the real one) unless a real restart from the same state already ran in this
 * process; then gives its verdict again. Returns true when it restarted.
 */
export async function restartOnce(state: RestartState, restart: () => Promise<void>): Promise<boolean> {
  const key = fingerprint(state);
  const known = restartVerdicts.get(key);
  if (known) {
    if (known.failure) throw known.failure;
    return false;
  }
  try {
    await restart();
    restartVerdicts.set(key, {});
  } catch (failure) {
    if (failure instanceof ExerciseNotWrittenError) throw failure;
    if (failure instanceof Error && failure.name === 'CheckFailure') restartVerdicts.set(key, { failure });
    throw failure;
  }
  return true;
}
