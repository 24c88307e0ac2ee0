// What milestone 10's checks observe with: streams the grader declares and fills itself (so that a
// reading check does not depend on the learner's declareStream), readers of the learner's layer that
// record what they were given, and the broker's refusals turned into something a learner can read.
import { randomUUID } from 'node:crypto';
import type { Channel, ConsumeMessage } from 'amqplib';
import type { StreamLayer, StreamOffset, StreamReader } from '../../../shared/layers/10-streams.ts';
import { ExerciseNotWrittenError } from '../../../shared/workshop/exercise.ts';
import { CheckFailure, type CheckContext } from '../../check.ts';
import { ignoreErrorsTheCheckReports, waitFor } from '../../checks/support.ts';

type Context = CheckContext<'streams'>;

/** A fresh stream of the grader's own, kept small (its retention plays no part in the reading checks). */
export async function freshStream(context: Context): Promise<string> {
  const channel = ignoreErrorsTheCheckReports(await (await context.connect()).createChannel());
  const name = `stream.${randomUUID().slice(0, 8)}`;
  await channel.assertQueue(name, { durable: true, arguments: { 'x-queue-type': 'stream', 'x-max-length-bytes': 10_000_000 } });
  await channel.close();
  return name;
}

/**
 * Appends messages whose bodies are `labels`, one at a time, each confirmed before the next: each
 * then sits in a chunk of its own, which is what 'last' and a timestamp attach to.
 */
export async function append(context: Context, stream: string, labels: string[]): Promise<void> {
  const channel = ignoreErrorsTheCheckReports(await (await context.connect()).createConfirmChannel());
  for (const label of labels) {
    channel.sendToQueue(stream, Buffer.from(label), { persistent: true });
    await channel.waitForConfirms();
  }
  await channel.close();
}

/** What one reader was given: each message's body, the offset the handler got, and the offset the broker put on it. */
export interface Received {
  label: string;
  offset: number;
  brokerOffset: number;
}

export interface Recording {
  reader: StreamReader;
  received: Received[];
  /** The bodies of the messages whose handler threw, as onError was given them. */
  failed: string[];
  channel: Channel;
  /** Handlers running right now, and the most that ever ran at once. */
  running: { now: number; most: number };
  /** Why the broker closed the reader's channel or connection, when it did. */
  closed: { reason?: string };
  /** Deliveries the broker sent on the reader's channel so far (its 'delivery' events): what the prefetch lets through. */
  deliveries(): number;
}

/** The offset the broker put on a delivery from a stream (x-stream-offset). */
export function brokerOffsetOf(message: ConsumeMessage): number {
  return Number(message.properties.headers?.['x-stream-offset']);
}

/** The hint that fits what the broker said when it refused or closed a reader. */
function hintFor(text: string): string | undefined {
  if (/acknowledg|no.?ack/i.test(text))
    return 'A stream consumer must acknowledge: noAck stays false, and each message is acked once handled (clause 6).';
  if (/prefetch/i.test(text))
    return 'A stream consumer needs a prefetch: set it on its channel, for each consumer (not global), before consuming (clause 6).';
  if (/offset|INTERNAL_ERROR/i.test(text))
    return 'x-stream-offset takes first, last, next, a number, or an AMQP timestamp in whole seconds; a Date as it is does not travel (clauses 2 to 4).';
  if (/exclusive|tag/i.test(text)) return 'Many readers may read one stream at the same time, each a consumer of its own (clause 5).';
  return undefined;
}

/**
 * Starts the learner's reader on a connection of its own (the broker closes the whole connection for
 * some mistakes: an auto-ack consumer on a stream) and records what its handler is given. The handler
 * takes `handleMs` per message (a slow consumer shows whether acks wait for it) and waits for `gate`
 * first, when given (a consumer that holds its messages shows its prefetch), and throws for the
 * message whose body is `failOn`; `alongside`: on the
 * channel of another reader, as a service with several readers has them. A reader the broker
 * refuses is a CheckFailure that quotes the refusal; nothing it does crashes the grader.
 */
export async function record(
  context: Context,
  stream: string,
  from: StreamOffset,
  options: { prefetch?: number; handleMs?: number; alongside?: Recording; gate?: Promise<void>; failOn?: string } = {},
): Promise<Recording> {
  const closed: { reason?: string } = options.alongside?.closed ?? {};
  const noteClose = (error: unknown) => (closed.reason ??= error instanceof Error ? error.message : String(error));
  let channel = options.alongside?.channel;
  if (!channel) {
    const connection = await context.connect();
    connection.on('error', noteClose);
    channel = await connection.createChannel();
    channel.on('error', noteClose);
  }
  let deliveries = 0;
  channel.on('delivery', () => deliveries++);
  const received: Received[] = [];
  const failed: string[] = [];
  const running = { now: 0, most: 0 };
  const handler = async (message: ConsumeMessage, offset: number) => {
    running.now++;
    running.most = Math.max(running.most, running.now);
    try {
      if (options.gate) await options.gate;
      if (options.handleMs) await new Promise((resolve) => setTimeout(resolve, options.handleMs));
      if (message.content.toString() === options.failOn) throw new Error(`cannot handle ${options.failOn}`);
      received.push({ label: message.content.toString(), offset, brokerOffset: brokerOffsetOf(message) });
    } finally {
      running.now--;
    }
  };
  let reader: StreamReader;
  try {
    reader = await (context.layer as StreamLayer).read(channel, stream, handler, {
      from,
      prefetch: options.prefetch ?? 10,
      onError: (_error, message) => failed.push(message?.content?.toString() ?? String(message)),
    });
  } catch (error) {
    if (error instanceof ExerciseNotWrittenError) throw error;
    // The reason travels on the connection's or the channel's 'error' event, next to the rejection.
    await waitFor(
      () => closed.reason ?? undefined,
      'the broker to say why',
      () => 'nothing',
      300,
    ).catch(() => undefined);
    const said = closed.reason ?? (error instanceof Error ? error.message : String(error));
    throw new CheckFailure('the broker to accept the reader on the stream', `read() failed: ${said}`, hintFor(said));
  }
  context.onCleanup(async () => {
    await Promise.resolve(reader.stop?.()).catch(() => {});
  });
  return { reader, received, failed, channel, running, closed, deliveries: () => deliveries };
}

/** "nothing", or what was received, and why the broker closed the reader when it did. */
export function describe(recording: Pick<Recording, 'received' | 'closed'>): string {
  const got = recording.received.length === 0 ? 'nothing' : recording.received.map((r) => `${r.label} (offset ${r.offset})`).join(', ');
  return recording.closed.reason ? `${got}; the broker closed the reader: ${recording.closed.reason}` : got;
}

/** The hint for a failure where the broker closed the reader, if it did. */
export function closeHint(recording: Pick<Recording, 'closed'>): string | undefined {
  return recording.closed.reason ? hintFor(recording.closed.reason) : undefined;
}

/** Waits until the reader has been given `count` messages (or fails saying what it got, at once when the broker closed it). */
export async function receivedAtLeast(recording: Recording, count: number, what: string, timeoutMs = 2000): Promise<Received[]> {
  return waitFor(
    () => {
      if (recording.received.length >= count) return [...recording.received];
      // A reader the broker closed gets nothing more: no use waiting out the time.
      if (recording.closed.reason) throw new CheckFailure(what, describe(recording), closeHint(recording));
      return undefined;
    },
    what,
    () => describe(recording),
    timeoutMs,
  );
}

export const labels = (prefix: string, count: number) => Array.from({ length: count }, (_, n) => `${prefix}-${n}`);
