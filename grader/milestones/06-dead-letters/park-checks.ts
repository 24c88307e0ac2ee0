// Milestone 6's checks on parking: the copy in dead-letter.queue keeps everything the original
// carried, a failed notification is parked at once, and a copy the broker refuses leaves the
// original in its queue with park and handleFailure saying they failed.
import type { ChannelModel, ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import { PARK_HEADERS } from '../../../shared/layers/06-dead-letters.ts';
import { describeError } from '../../../shared/log.ts';
import { EXCHANGES, QUEUES, queueSpec } from '../../../shared/topology/topology.ts';
import { ExerciseNotWrittenError } from '../../../shared/workshop/exercise.ts';
import { codec } from '../../../solutions/layers/01-publish-consume.ts';
import { type Check, expectThat } from '../../check.ts';
import { sampleOrderCreated, waitFor } from '../../checks/support.ts';
import {
  consumeWithFailures,
  deathsOf,
  expectOpen,
  headerAsSeen,
  headersOf,
  outcomesOf,
  PARK_HEADERS_HINT,
  parkScene,
  paymentFailed,
  refusingDeadLetterQueue,
  sendTo,
} from './support.ts';

/** How a graded call that parks settled: "resolved as if the copy were safe", or "rejected with …". */
function describeSettled(outcome: { value: unknown } | { error: unknown }): string {
  if ('error' in outcome) return `rejected with "${describeError(outcome.error)}"`;
  const withValue = outcome.value === undefined ? '' : ` with ${JSON.stringify(outcome.value)}`;
  return `resolved${withValue} as if the copy were safe`;
}

/**
 * Takes the first delivery of `queue`, cancels the consumer (so nothing else takes that message when
 * it goes back) and hands the delivery to `call` (the graded park or handleFailure) while
 * dead-letter.queue refuses everything, and waits until that settles. Then, the channel still open,
 * how many messages are ready in the queue: a message nacked back is there, one left unacked is not.
 * Then the channel closed: what was not settled for good goes back.
 */
async function refusedPark(
  connection: ChannelModel,
  queue: string,
  what: string,
  call: (channel: ConfirmChannel, message: ConsumeMessage) => Promise<unknown>,
  readyWanted: number,
) {
  const worker = await connection.createConfirmChannel();
  let closedBy: unknown;
  worker.on('error', (error: unknown) => (closedBy ??= error));
  await worker.prefetch(1);
  let called = false;
  let resolved = false;
  let rejected: unknown;
  let settled: string | undefined;
  await worker.consume(queue, (message) => {
    if (!message || called) return;
    called = true;
    worker
      .cancel(message.fields.consumerTag)
      .then(() => call(worker, message))
      .then(
        (value) => {
          resolved = true;
          settled = describeSettled({ value });
        },
        (error: unknown) => {
          rejected = error;
          settled = describeSettled({ error });
        },
      );
  });
  await waitFor(
    () => {
      if (rejected instanceof ExerciseNotWrittenError) throw rejected;
      return settled;
    },
    `${what} to resolve or reject once the broker refused the copy`,
    () => (called ? 'it was still waiting after 2 s' : 'the message never reached the consumer'),
    2000,
  );
  const readyWhileOpen = await readyOnOpenChannel(worker, queue, readyWanted);
  await new Promise((resolve) => setImmediate(resolve));
  await worker.close().catch(() => {}); // whatever is still unacked goes back to the queue
  return { settled, resolved, closedBy, readyWhileOpen };
}

/** Asked on the worker's own channel, the count comes after any nack it sent; a delivery settled twice closes it (undefined). */
async function readyOnOpenChannel(worker: ConfirmChannel, queue: string, readyWanted: number): Promise<number | undefined> {
  const readyOnWorker = () =>
    worker.checkQueue(queue).then(
      ({ messageCount }) => messageCount,
      () => undefined,
    );
  let readyWhileOpen: number | undefined;
  const counted = async () => {
    readyWhileOpen = await readyOnWorker();
    return readyWhileOpen === readyWanted || readyWhileOpen === undefined ? true : undefined;
  };
  await waitFor(counted, `${readyWanted} message(s) ready`, () => `${readyWhileOpen}`, 500).catch(() => {}); // the check says what it saw
  return readyWhileOpen;
}

/** The original's per-message time to live: long enough that it never expires during the check. */
const ORIGINAL_TTL = '600000';

/** What is wrong with a parked copy of `original` (sent as `content`), with a hint for the first cause found. */
function copyProblems(
  copy: ConsumeMessage,
  content: Buffer,
  original: Options.Publish & { headers: Record<string, unknown> },
  added: Record<string, unknown>,
) {
  const problems: string[] = [];
  let hint: string | undefined;
  if (copy.properties.deliveryMode !== 2) {
    problems.push(`deliveryMode ${copy.properties.deliveryMode ?? 'unset'} (not persistent: lost if the broker restarts)`);
    hint ??= 'A parked message is kept until a person looks at it, broker restarts included.';
  }
  if (!copy.content.equals(content)) problems.push(`a different body: ${copy.content.toString('utf8').slice(0, 100)}`);
  for (const property of ['messageId', 'correlationId', 'type', 'timestamp', 'contentType', 'appId', 'priority'] as const) {
    if (copy.properties[property] !== original[property]) {
      problems.push(`${property} ${JSON.stringify(copy.properties[property])} (the original's: ${JSON.stringify(original[property])})`);
      hint ??= "The copy starts from the original's properties; a person replaying it needs them all.";
    }
  }
  if (copy.properties.expiration !== undefined) {
    problems.push(
      `expiration ${JSON.stringify(copy.properties.expiration)} (the original's time to live: the copy would leave dead-letter.queue unread)`,
    );
    hint ??= 'A parked copy waits for a person, however long that takes: it keeps what identifies the message, not how long it may live.';
  }
  const headers = headersOf(copy);
  for (const [header, value] of Object.entries(original.headers)) {
    if (headers[header] !== value) {
      problems.push(`header ${header} ${headerAsSeen(headers, header)} (the original's: ${JSON.stringify(value)})`);
      hint ??= "Add the park headers to the original's headers, rather than replacing them.";
    }
  }
  for (const [header, value] of Object.entries(added)) {
    if (headers[header] !== value) problems.push(`${header} ${headerAsSeen(headers, header)} (expected ${JSON.stringify(value)})`);
  }
  const parkedAt = headers[PARK_HEADERS.parkedAt];
  if (!isATimeOfToday(parkedAt))
    problems.push(
      `${PARK_HEADERS.parkedAt} = ${JSON.stringify(parkedAt)} (expected the time it was parked: a date string, or milliseconds or seconds since 1970)`,
    );
  return { problems, hint };
}

/** The contract asks for "the time" without a format: a date string (ISO or another Date.parse reads), or a Unix time in ms or s, within a day of now. */
function isATimeOfToday(value: unknown): boolean {
  const DAY_MS = 86_400_000;
  const near = (ms: number) => Math.abs(ms - Date.now()) < DAY_MS;
  if (typeof value === 'string') return !Number.isNaN(Date.parse(value)) && near(Date.parse(value));
  if (typeof value === 'number') return near(value) || near(value * 1000);
  return false;
}

export const parkedCopy: Check<'deadLetters'> = {
  id: '06.parked-copy',
  name: "a parked copy is persistent and keeps the original's body, properties (not its time to live) and headers, with the reason headers added",
  hint: 'The copy is what a person replays later: everything the original carried, plus the PARK_HEADERS (README § Parking).',
  async run({ layer, reference, connect, topology }) {
    const connection = await connect();
    const { setup, parked } = await parkScene(connection, topology, reference, [QUEUES.inventory, QUEUES.deadLetter]);
    const spec = queueSpec(topology, QUEUES.inventory);

    // An original with every property the system sets, a header of its own and a non-ASCII body; and
    // a time to live of its own, as an RPC request has (milestone 7), which the copy must not keep.
    const event = paymentFailed('order-zoë-🍵', 'carte refusée — Zoë');
    const { content, options } = codec.encode(event);
    const original = {
      ...options,
      priority: 7,
      persistent: true,
      expiration: ORIGINAL_TTL,
      headers: { ...options.headers, 'x-trace-id': 'trace-ü-42' },
    };
    setup.publish(EXCHANGES.order, event.type, content, original);
    await setup.waitForConfirms();

    const reason = 'stock database unavailable — ürgent';
    const worker = await consumeWithFailures(
      connection,
      layer,
      spec,
      () => reason,
      spec,
      async (channel, message) => {
        await layer.park(channel, message, reason, spec);
        return 'parked';
      },
    );
    await waitFor(
      () => {
        worker.rethrow();
        return worker.outcomes.length > 0 ? true : undefined;
      },
      'park to resolve',
      () => (worker.tries.length === 0 ? 'the message never reached the consumer' : 'it was still waiting after 3 s'),
    );

    const others = () => (parked.length > 0 ? ` with this messageId (${parked.length} other message(s))` : '');
    const copy = await waitFor(
      () => parked.find((m) => m.properties.messageId === event.messageId),
      'the copy in dead-letter.queue once park resolved',
      () => `dead-letter.queue got nothing${others()}`,
    );
    const added: Record<string, unknown> = {
      [PARK_HEADERS.reason]: reason,
      [PARK_HEADERS.queue]: QUEUES.inventory,
      [PARK_HEADERS.exchange]: EXCHANGES.order,
      [PARK_HEADERS.routingKey]: event.type,
      [PARK_HEADERS.attempts]: 1,
    };
    const { problems, hint } = copyProblems(copy, content, original, added);
    expectThat(
      problems.length === 0,
      "a persistent copy with the original's body, properties (no expiration) and headers, plus the park headers",
      problems.join('; '),
      hint,
    );
    await worker.expectAllSettled(setup, 'the parked original');
  },
};

export const parkAtOnce: Check<'deadLetters'> = {
  id: '06.park-at-once',
  name: 'a failed notification is parked at once, with its reason, and not retried',
  hint: "A queue whose failure policy is 'park' has no retry queue: its failures go to dead-letter.queue at once (README § Parking).",
  async run({ layer, reference, connect, topology }) {
    const connection = await connect();
    const { setup, parked } = await parkScene(connection, topology, reference, [QUEUES.notificationEmail, QUEUES.deadLetter]);
    const email = queueSpec(topology, QUEUES.notificationEmail);
    const worker = await consumeWithFailures(connection, layer, email, () => 'mail server refused');
    const event = sampleOrderCreated('order-notify');
    await sendTo(setup, QUEUES.notificationEmail, event);

    const copy = await waitFor(
      () => {
        worker.rethrow();
        const found = parked.find((m) => m.properties.messageId === event.messageId);
        return found && worker.outcomes.length > 0 ? found : undefined;
      },
      'the notification in dead-letter.queue',
      () => `it was not there (tries: ${worker.tries.length}, outcomes: ${outcomesOf(worker.outcomes)})`,
    );
    const headers = headersOf(copy);
    const reason = headers[PARK_HEADERS.reason];
    const deadLettered = headers['x-death'] ? ` and ${deathsOf(copy)}: it was dead-lettered by a nack, not parked` : '';
    expectThat(
      typeof reason === 'string' && reason.includes('mail server refused'),
      'x-failure-reason with the error ("mail server refused")',
      `x-failure-reason = ${JSON.stringify(reason)}${deadLettered}`,
      headers['x-death'] ? undefined : PARK_HEADERS_HINT,
    );
    expectThat(
      worker.tries.length === 1 && worker.outcomes[0] === 'parked',
      'one try, outcome parked',
      `${worker.tries.length} tries, outcomes: ${outcomesOf(worker.outcomes)}`,
    );
    expectThat(headers[PARK_HEADERS.attempts] === 1, 'x-attempts = 1', `x-attempts = ${JSON.stringify(headers[PARK_HEADERS.attempts])}`);
    await worker.expectAllSettled(setup, 'the parked notification');
  },
};

export const parkConfirmed: Check<'deadLetters'> = {
  id: '06.park-confirmed',
  name: 'a message whose dead-letter copy the broker refuses stays in its queue, and park and handleFailure say they failed',
  hint: 'The original may go only once the broker has confirmed the copy; a refused copy (a nack from the broker) means the original must stay (README § Settling exactly once).',
  async run({ layer, connect, topology }) {
    const connection = await connect();
    const setup = await connection.createConfirmChannel();
    const email = queueSpec(topology, QUEUES.notificationEmail);
    await refusingDeadLetterQueue(setup);
    await setup.assertQueue(email.name, { durable: true });

    // First park itself, then handleFailure (which parks a failed notification at once).
    const attempts = [
      {
        what: 'park',
        call: (channel: ConfirmChannel, message: ConsumeMessage) => layer.park(channel, message, 'testing a refused park', email),
      },
      {
        what: 'handleFailure',
        call: (channel: ConfirmChannel, message: ConsumeMessage) =>
          layer.handleFailure(channel, message, new Error('mail server refused'), email),
      },
    ];
    for (const [index, { what, call }] of attempts.entries()) {
      await sendTo(setup, email.name, sampleOrderCreated(`order-unparkable-${index + 1}`));
      const { settled, resolved, closedBy, readyWhileOpen } = await refusedPark(connection, email.name, what, call, index + 1);
      const { messageCount } = await setup.checkQueue(email.name);
      const channelClosed = closedBy ? `, and the broker closed the channel: ${describeError(closedBy)}` : '';
      expectThat(
        messageCount === index + 1,
        `the message back in its queue after the broker refused (nacked) its dead-letter copy`,
        `it was settled for good although the copy was refused; ${what} ${settled}${channelClosed}`,
      );
      expectOpen(closedBy);
      expectThat(
        readyWhileOpen === index + 1,
        `the message back in its queue, ready for another consumer, once ${what} had settled (its channel still open)`,
        `${readyWhileOpen ?? 'no'} message(s) ready: the original was still held unacked by the channel, so only closing the channel would have given it back; ${what} ${settled}`,
      );
      expectThat(
        !resolved,
        `${what} to reject, so its caller knows the message was not parked`,
        `${what} ${settled}`,
        what === 'park'
          ? 'When the copy is refused, say so: the caller must not count the message as parked.'
          : 'handleFailure resolves once the delivery is settled for good: a park that failed is a failure of handleFailure too.',
      );
    }
  },
};
