// Milestone 5's checks on processOnce, on an SQLite store that can fail on purpose or let a second
// worker handle the same message id: a repeat applied once, and check, work and record in one transaction.
import { describeError } from '../../../shared/log.ts';
import { type Check, expectThat } from '../../check.ts';
import { type AcksContext, inventoryStore, observer, queueWith, thrownBy } from './support.ts';

/** What a call of processOnce did, in words: "it threw …" or "it returned …". */
function describeCall(call: { returned?: unknown; threw?: unknown }): string {
  return call.threw ? `it threw ${describeError(call.threw)}` : `it returned ${String(call.returned)}`;
}

export const processOnce: Check<'acks'> = {
  id: '05.process-once',
  name: 'processOnce applies a repeated message id once: true the first time, false for the repeat',
  hint: 'The store remembers which message ids were processed: look before doing the work, and remember after.',
  async run(context) {
    const admin = await observer(context);
    // The same message delivered twice, as after a redelivery or a publish retried by the outbox, then another one.
    const ids = ['order-9:order.created', 'order-9:order.created', 'order-10:order.created'];
    const queue = await queueWith(admin, 'check.duplicates', ['reserve order-9', 'reserve order-9', 'reserve order-10'], ids);
    const inventory = inventoryStore();
    context.onCleanup(() => inventory.close());
    const outcomes: unknown[] = [];
    for (let i = 0; i < ids.length; i++) {
      const message = await admin.get(queue, { noAck: true });
      expectThat(message, 'the delivery in the queue', 'an empty queue');
      const { returned, threw } = thrownBy(() =>
        context.layer.processOnce(inventory.store, message.properties.messageId, inventory.reserve),
      );
      expectThat(threw === undefined, 'processOnce to return', () => `it threw ${describeError(threw)}`);
      outcomes.push(returned);
    }
    expectThat(
      inventory.stock() === 8,
      'item1 reserved once for order-9 and once for order-10 (10 → 8)',
      () => `${inventory.stock()} left: reserved ${10 - inventory.stock()}×`,
    );
    expectThat(
      outcomes.join() === 'true,false,true',
      'processOnce to return true when it applies, false for the repeat: true, false, true',
      `${outcomes.join(', ')}`,
    );
  },
};

/** 1. The work throws: the error reaches the caller, nothing is recorded, and a retry applies it. */
function expectFailedWorkRecordsNothing(context: AcksContext): void {
  const failingWork = inventoryStore();
  context.onCleanup(() => failingWork.close());
  const diskFull = new Error('disk full');
  const attempt = thrownBy(() =>
    context.layer.processOnce(failingWork.store, 'order-11:order.created', () => {
      throw diskFull;
    }),
  );
  const seenInstead = () =>
    attempt.threw === undefined
      ? `processOnce returned ${String(attempt.returned)}: the message would be acked and its work never done`
      : `another error: ${describeError(attempt.threw)}`;
  expectThat(attempt.threw === diskFull, "the work's own error to reach the caller (so the message is retried)", seenInstead);
  expectThat(
    !failingWork.recorded('order-11:order.created'),
    'nothing recorded for work that failed',
    'its message id was recorded: the retry would skip it and the work would never happen',
  );
  const retry = thrownBy(() => context.layer.processOnce(failingWork.store, 'order-11:order.created', failingWork.reserve));
  expectThat(
    retry.returned === true && failingWork.stock() === 9,
    'the retry of that message to apply it (true, 10 → 9)',
    () => `${describeCall(retry)}, ${failingWork.stock()} left`,
  );
}

/** 2. The record fails after (or before) the work: the work must not stay done without its record. */
function expectFailedRecordUndoesWork(context: AcksContext): void {
  const failingRecord = inventoryStore({ recordFails: new Error('the processed table is locked') });
  context.onCleanup(() => failingRecord.close());
  const recordAttempt = thrownBy(() => context.layer.processOnce(failingRecord.store, 'order-12:order.created', failingRecord.reserve));
  expectThat(
    recordAttempt.threw !== undefined,
    "record()'s error to reach the caller",
    () => `processOnce returned ${String(recordAttempt.returned)}`,
  );
  expectThat(
    failingRecord.stock() === 10,
    'the work undone when its record failed (stock still 10): work and record commit together or not at all',
    () => `${failingRecord.stock()} left: the reservation stayed without its record, so the redelivery will reserve again`,
  );
}

/** 3. A second worker handles the same message id at the first chance processOnce gives it. */
function expectRaceAppliedOnce(context: AcksContext): void {
  const raced = inventoryStore({ rival: 'order-13:order.created' });
  context.onCleanup(() => raced.close());
  const race = thrownBy(() => context.layer.processOnce(raced.store, 'order-13:order.created', raced.reserve));
  expectThat(race.threw === undefined, 'processOnce to return', () => `it threw ${describeError(race.threw)}`);
  expectThat(
    raced.stock() === 9,
    'order-13 reserved once in all, though a second worker handled the same message id at the same time',
    () =>
      `${raced.stock()} left: reserved twice, because the second worker committed between two of processOnce's steps that were not in one transaction`,
  );
  expectThat(
    race.returned === raced.applied() > 0,
    'processOnce to return true only when it applied the work itself',
    `it returned ${String(race.returned)} and applied the work ${raced.applied()}×`,
  );
}

export const processOnceAtomic: Check<'acks'> = {
  id: '05.process-once-atomic',
  name: 'processOnce keeps the check, the work and the record in one transaction: a failure records nothing and undoes the work, a concurrent duplicate is applied once',
  hint: 'One store.transaction(...) around all of it: the look-up, the work and the record. Let an error go through it: the transaction rolls back, and the caller sees the error.',
  after: ['05.process-once'],
  async run(context) {
    expectFailedWorkRecordsNothing(context);
    expectFailedRecordUndoesWork(context);
    expectRaceAppliedOnce(context);
  },
};
