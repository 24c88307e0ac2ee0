// What milestone 5's checks share: queues filled for a check, a consumer's channel that reports why
// the broker closed it, handlers held "in progress" until the check lets them go, escapes watched,
// and an SQLite store of processed ids on which a second worker can race the layer's processOnce.
import Database from 'better-sqlite3';
import type { Channel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { ExerciseNotWrittenError } from '../../../shared/workshop/exercise.ts';
import type { FailureHandler, ProcessedMessages } from '../../../shared/layers/05-acks-prefetch.ts';
import { describeError } from '../../../shared/log.ts';
import { type CheckContext, CheckFailure, expectThat } from '../../check.ts';
import { ignoreErrorsTheCheckReports, waitFor } from '../../checks/support.ts';

export type AcksContext = CheckContext<'acks'>;

/** A fresh queue holding one message per body (message id = body unless ids are given). */
export async function queueWith(channel: ConfirmChannel, name: string, bodies: string[], ids = bodies): Promise<string> {
  const { queue } = await channel.assertQueue(name, { durable: true });
  bodies.forEach((body, i) => channel.sendToQueue(queue, Buffer.from(body), { messageId: ids[i], persistent: true }));
  await channel.waitForConfirms();
  return queue;
}

/** The check's own channel, for setting up queues and looking at them. */
export async function observer(context: AcksContext): Promise<ConfirmChannel> {
  return ignoreErrorsTheCheckReports(await (await context.connect()).createConfirmChannel());
}

export const UNACKED_HINT =
  'Prefetch counts deliveries not yet settled: a message whose handler resolved must be acked, or its place is never given back.';
export const IN_FLIGHT_HINT =
  'inFlight() counts the deliveries whose handling has started and not finished: add one when it starts, remove it when it ends, failures included.';
export const FAILURE_HINT =
  'A handler that throws: its message, the channel and the error go to onFailure. Not a nack of your own (amqplib requeues by default: a loop), not an ack.';

/** How stop() had ended when it should still be waiting: `whileWhat` is what would be cut short. */
export function stopEndedEarly(early: Settled, whileWhat: string): string {
  if (early.state === 'resolved')
    return `stop() had already resolved: a service shutting down now would close its channel under ${whileWhat}`;
  return `stop() rejected: ${describeError((early as { error: unknown }).error)}`;
}

const SETTLED_TWICE_HINT =
  'The broker closes a channel on which one delivery is settled twice ("unknown delivery tag"): ack once, on the path where the handler resolved, and leave a failed message to onFailure alone.';

export interface ConsumerChannel {
  channel: ConfirmChannel;
  /** Closes the channel, then its connection: the broker requeues whatever it had not been told about. */
  close(): Promise<void>;
  /** Fails the check at once if the broker has closed the channel (a delivery settled twice, an ack on a noAck consumer). */
  assertOpen(): void;
}

/** A channel for the consumer under test, on a connection of its own (so the check can close it). */
export async function consumerChannel(context: AcksContext): Promise<ConsumerChannel> {
  const connection = await context.connect();
  const channel = await connection.createConfirmChannel();
  let closedBy: unknown;
  channel.on('error', (error: unknown) => void (closedBy ??= error)); // seen by the checks, not a crash
  // The channel first: its close goes out behind the acks already sent on it, while amqplib may write
  // a connection.close ahead of them (and the broker would then requeue messages that were acked).
  const close = async () => {
    await channel.close().catch(() => {});
    await connection.close().catch(() => {});
  };
  const assertOpen = () => {
    if (closedBy === undefined) return;
    const reason = describeError(closedBy);
    const twice = /unknown delivery tag/i.test(reason);
    throw new CheckFailure(
      "the consumer's channel to stay open",
      `the broker closed it: ${reason}${twice ? ' (a delivery was settled twice)' : ''}`,
      twice ? SETTLED_TWICE_HINT : undefined,
    );
  };
  return { channel, close, assertOpen };
}

/** waitFor that gives up at once, saying why, when the broker closes the consumer's channel; `hint` fits a timeout. */
export async function waitOpen<T>(
  consumer: ConsumerChannel,
  probe: () => Promise<T | undefined> | T | undefined,
  expected: string,
  seen: () => string,
  timeoutMs?: number,
  hint?: string,
): Promise<T> {
  try {
    return await waitFor(
      async () => {
        consumer.assertOpen();
        return probe();
      },
      expected,
      seen,
      timeoutMs,
    );
  } catch (error) {
    if (hint && error instanceof CheckFailure && error.expected === expected && error.hint === undefined)
      throw new CheckFailure(error.expected, error.seen, hint);
    throw error;
  }
}

/** A failure of `waiting` that has no hint of its own gets `hint`. */
export async function withHint<T>(waiting: Promise<T>, hint: string): Promise<T> {
  try {
    return await waiting;
  } catch (error) {
    if (error instanceof CheckFailure && error.hint === undefined) throw new CheckFailure(error.expected, error.seen, hint);
    throw error;
  }
}

/** A promise the check opens when it chooses: a handler waits on it, as on slow work. */
export function gate(): { opened: Promise<void>; open(): void } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

export const body = (message: ConsumeMessage | null) => message?.content.toString() ?? 'null';
export const ready = async (channel: Channel, queue: string) => (await channel.checkQueue(queue)).messageCount;
export const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
/** Drops a failed message: for checks where failures are not the point. */
export const drop: FailureHandler = async (channel, message) => channel.nack(message, false, false);

/** Errors that escape the consumer (an unhandled rejection would crash a service): the check fails on them. */
export function watchEscapes(context: AcksContext): (hint?: string) => void {
  const escaped: unknown[] = [];
  const onRejection = (reason: unknown) => void escaped.push(reason);
  process.on('unhandledRejection', onRejection);
  context.onCleanup(() => void process.off('unhandledRejection', onRejection));
  return (hint?: string) => {
    const [first] = escaped;
    if (first instanceof ExerciseNotWrittenError) throw first;
    const closed = first instanceof Error && first.name === 'IllegalOperationError';
    expectThat(
      escaped.length === 0,
      'no error to escape the consumer',
      () => `an unhandled rejection, which would crash the service: ${describeError(first)}`,
      closed
        ? 'An ack on a channel that has closed throws IllegalOperationError; the broker has already requeued that message, so this one error is safe to catch and ignore.'
        : hint,
    );
  };
}

export type Settled = { state: 'pending' } | { state: 'resolved' } | { state: 'rejected'; error: unknown };

/** What became of a promise so far, without waiting for it. */
export function watch(promise: Promise<unknown>): () => Settled {
  let settled: Settled = { state: 'pending' };
  promise.then(
    () => (settled = { state: 'resolved' }),
    (error: unknown) => (settled = { state: 'rejected', error }),
  );
  return () => settled;
}

/** Runs fn; returns what it threw (the starter's todo() ends the check). */
export function thrownBy(fn: () => unknown): { returned?: unknown; threw?: unknown } {
  try {
    return { returned: fn() };
  } catch (error) {
    if (error instanceof ExerciseNotWrittenError) throw error;
    return { threw: error };
  }
}

/**
 * An inventory database with its ProcessedMessages (in-memory SQLite, a transaction is
 * `db.transaction(work).immediate()`, as in the services). Options let a check break it on purpose:
 * `recordFails` makes record() throw; `rival` lets a second worker handle the same message id at the
 * first moment processOnce leaves room for it (a store call outside a transaction, after an earlier
 * store call of the same processOnce): what a second process could do between two transactions.
 */
export function inventoryStore(options: { recordFails?: Error; rival?: string } = {}) {
  const db = new Database(':memory:');
  db.exec(
    "CREATE TABLE processed (id TEXT PRIMARY KEY); CREATE TABLE stock (sku TEXT PRIMARY KEY, quantity INTEGER); INSERT INTO stock VALUES ('item1', 10);",
  );
  const insert = (id: string) => void db.prepare('INSERT OR IGNORE INTO processed VALUES (?)').run(id);
  const take = () => void db.prepare("UPDATE stock SET quantity = quantity - 1 WHERE sku = 'item1'").run();
  let storeCalls = 0;
  let rivalRan = false;
  /** Before each store call: if the layer is outside a transaction after an earlier call, the rival gets its turn. */
  const turn = () => {
    if (options.rival !== undefined && !rivalRan && storeCalls > 0 && !db.inTransaction) {
      rivalRan = true;
      db.transaction(() => {
        take();
        insert(options.rival as string);
      }).immediate();
    }
    storeCalls++;
  };
  let applied = 0;
  const store: ProcessedMessages = {
    transaction: (work) => {
      turn();
      return db.transaction(work).immediate();
    },
    has: (id) => {
      turn();
      return db.prepare('SELECT 1 FROM processed WHERE id = ?').get(id) !== undefined;
    },
    record: (id) => {
      turn();
      if (options.recordFails) throw options.recordFails;
      insert(id);
    },
  };
  return {
    store,
    /** The work of one delivery: reserve one item1. */
    reserve: () => {
      applied++;
      take();
    },
    /** How many times the layer ran the work (rolled back or not). */
    applied: () => applied,
    rivalRan: () => rivalRan,
    stock: () => (db.prepare("SELECT quantity FROM stock WHERE sku = 'item1'").get() as { quantity: number }).quantity,
    recorded: (id: string) => db.prepare('SELECT 1 FROM processed WHERE id = ?').get(id) !== undefined,
    close: () => void db.close(),
  };
}
