// Milestone 10 (optional): streams. The grader declares and fills streams of its own, starts the
// learner's readers on them, and observes on the broker what each reader was given, from where, and
// what stays in the stream; the declaring check reads the stream back through the management API.
import { randomUUID } from 'node:crypto';
import type { StreamSpec } from '../../../shared/layers/10-streams.ts';
import { CheckFailure, defineChecks, expectThat } from '../../check.ts';
import { ignoreErrorsTheCheckReports, waitFor } from '../../checks/support.ts';
import { append, closeHint, describe, freshStream, labels, receivedAtLeast, record } from './support.ts';

interface QueueInfo {
  type?: string;
  durable?: boolean;
  arguments?: Record<string, unknown>;
  messages?: number;
}

/** Offsets 0, 1, 2… as the broker numbered them, and the handler given the same ones. */
function offsetsAreTheBrokers(received: Array<{ offset: number; brokerOffset: number }>): boolean {
  return received.every((r) => r.offset === r.brokerOffset && Number.isInteger(r.offset));
}

export const checks = defineChecks('streams', [
  {
    id: '10.declare',
    name: 'declareStream makes a durable stream, with a retention limit taken from its spec',
    hint: 'A stream is a queue declared with the x-queue-type argument; its retention is a queue argument too (clause 1).',
    async run(context) {
      const spec: StreamSpec = {
        name: `audit.stream.${randomUUID().slice(0, 6)}`,
        retention: { maxBytes: 123_456_789, maxAge: '36h' },
      };
      const channel = ignoreErrorsTheCheckReports(await (await context.connect()).createChannel());
      try {
        await context.layer.declareStream(channel, spec);
      } catch (error) {
        if (error instanceof Error && error.name === 'ExerciseNotWrittenError') throw error;
        const said = error instanceof Error ? error.message : String(error);
        throw new CheckFailure(
          `declareStream to declare ${spec.name}`,
          `the broker refused it: ${said}`,
          /x-max-length'|invalid_max_age|x-max-age/.test(said)
            ? 'A stream takes x-max-length-bytes (a number of bytes) or x-max-age (a string such as "36h"), not x-max-length (clause 1).'
            : undefined,
        );
      }
      const vhost = encodeURIComponent(context.vhost.name);
      const info = await waitFor(
        async () => context.vhost.api.request<QueueInfo>('GET', `/queues/${vhost}/${encodeURIComponent(spec.name)}`).catch(() => undefined),
        `a queue named ${spec.name} on the broker`,
        () => 'no such queue',
      );
      expectThat(
        info.type === 'stream',
        `${spec.name} to be a stream (x-queue-type: stream)`,
        `a ${info.type ?? 'queue of no known type'} with arguments ${JSON.stringify(info.arguments ?? {})}`,
        'Declared without x-queue-type: stream it is a classic queue: reading it removes what is read (clause 1).',
      );
      expectThat(info.durable === true, `${spec.name} to be durable`, 'a transient one');
      const args = info.arguments ?? {};
      const bySize = args['x-max-length-bytes'] === spec.retention.maxBytes;
      const byAge = args['x-max-age'] === spec.retention.maxAge;
      expectThat(
        bySize || byAge,
        `a retention limit from the spec: x-max-length-bytes ${spec.retention.maxBytes}, or x-max-age "${spec.retention.maxAge}"`,
        `x-max-length-bytes ${JSON.stringify(args['x-max-length-bytes'])}, x-max-age ${JSON.stringify(args['x-max-age'])}`,
        args['x-max-length-bytes'] === undefined && args['x-max-age'] === undefined
          ? 'Without a retention limit a stream keeps everything, until the disk is full (clause 1).'
          : 'Take the values from the spec it is given, not from the audit stream (clause 1).',
      );
    },
  },
  {
    id: '10.from-first',
    name: "a reader from 'first' gets every message already in the stream, in order, each with its offset, without anyone publishing again",
    hint: 'Where a reader starts is an argument of the consume call, x-stream-offset; without one it starts at next (clauses 2 and 7).',
    async run(context) {
      const stream = await freshStream(context);
      const history = labels('history', 5);
      await append(context, stream, history);
      const reader = await record(context, stream, 'first');
      const received = await receivedAtLeast(
        reader,
        history.length,
        `the ${history.length} messages already in the stream, from offset 0`,
      ).catch((error: unknown) => {
        if (error instanceof CheckFailure) throw new CheckFailure(error.expected, error.seen, closeHint(reader) ?? error.hint);
        throw error;
      });
      expectThat(received.map((r) => r.label).join() === history.join(), `the stream's messages in its order: ${history.join(', ')}`, () =>
        describe(reader),
      );
      expectThat(
        offsetsAreTheBrokers(received) && received.map((r) => r.offset).join() === '0,1,2,3,4',
        "each message's offset given to the handler: 0, 1, 2, 3, 4 (the x-stream-offset header of each delivery)",
        () => received.map((r) => `${r.label} with offset ${r.offset} (the broker says ${r.brokerOffset})`).join(', '),
        'The offset of a delivery is in its headers, x-stream-offset; a delivery tag counts deliveries on the channel (clause 7).',
      );
    },
  },
  {
    id: '10.next-and-last',
    name: "a reader from 'next' gets only what is published after it starts; one from 'last' starts at the last chunk",
    hint: 'Pass the offset you are given to the broker as it is: next and last are words it understands (clause 3).',
    async run(context) {
      const stream = await freshStream(context);
      const old = labels('old', 3);
      await append(context, stream, old);

      const last = await record(context, stream, 'last');
      await receivedAtLeast(last, 1, `the last message already in the stream, ${old.at(-1)}`);
      expectThat(
        last.received[0]?.label === old.at(-1),
        `a reader from 'last' to start at the last message written (${old.at(-1)}, offset 2: each was written in a chunk of its own)`,
        () => describe(last),
      );

      // read() resolves once the broker has attached the reader (consume-ok): "after it starts" is from then on.
      const next = await record(context, stream, 'next');
      const fresh = labels('fresh', 2);
      await append(context, stream, fresh);
      // A stream delivers in order: anything old it was going to get would come before the fresh ones.
      const received = await receivedAtLeast(next, fresh.length, `the ${fresh.length} messages published after it started`);
      expectThat(received.map((r) => r.label).join() === fresh.join(), `a reader from 'next' to get only ${fresh.join(', ')}`, () =>
        describe(next),
      );
    },
  },
  {
    id: '10.timestamp',
    name: 'a reader from a moment in time gets what was written from that second on, and one from an offset number starts at that offset',
    hint: 'A moment travels as an AMQP timestamp, in whole seconds: amqplib writes one as {"!": "timestamp", value} (clause 4).',
    timeoutMs: 8000,
    async run(context) {
      const stream = await freshStream(context);
      const before = labels('before', 2);
      await append(context, stream, before);
      // The next whole second after those were written, and a little past it on the clock: what is
      // written now is stamped after the moment, what came before, before it.
      const moment = new Date(Math.floor(Date.now() / 1000) * 1000 + 1000);
      await new Promise((resolve) => setTimeout(resolve, moment.getTime() + 100 - Date.now()));
      const after = labels('after', 2);
      await append(context, stream, after);

      const reader = await record(context, stream, moment);
      const received = await receivedAtLeast(
        reader,
        after.length,
        `the ${after.length} messages written after ${moment.toISOString()}`,
      ).catch((error: unknown) => {
        if (error instanceof CheckFailure)
          throw new CheckFailure(
            error.expected,
            error.seen,
            closeHint(reader) ?? 'Is the moment in seconds? In milliseconds it lies far in the future (clause 4).',
          );
        throw error;
      });
      expectThat(
        received.map((r) => r.label).join() === after.join(),
        `only ${after.join(', ')}, written after ${moment.toISOString()}; not ${before.join(', ')}, written before it`,
        () => describe(reader),
      );
      const fromOffset = await record(context, stream, 3);
      const tail = await receivedAtLeast(fromOffset, 1, 'the message at offset 3');
      expectThat(tail[0]?.label === after[1] && tail[0]?.offset === 3, `a reader from offset 3 to start at ${after[1]}`, () =>
        describe(fromOffset),
      );
    },
  },
  {
    id: '10.replay',
    name: 'reading removes nothing: two readers at once each get every message, and a reader after them still does',
    hint: 'Each reader is a consumer of its own, with a tag the broker chooses, shared with nobody (clause 5).',
    async run(context) {
      const stream = await freshStream(context);
      const history = labels('replay', 4);
      await append(context, stream, history);
      // Two readers on one channel, as a service with several readers of one stream has them.
      const first = await record(context, stream, 'first');
      const second = await record(context, stream, 'first', { alongside: first });
      for (const [name, reader] of [
        ['the first reader', first],
        ['the second reader', second],
      ] as const) {
        const got = await receivedAtLeast(reader, history.length, `${name} to get all ${history.length} messages`);
        expectThat(got.map((r) => r.label).join() === history.join(), `${name} to get ${history.join(', ')}`, () => describe(reader));
      }
      await first.reader.stop();
      await second.reader.stop();
      const vhost = encodeURIComponent(context.vhost.name);
      const info = await context.vhost.api.request<QueueInfo>('GET', `/queues/${vhost}/${encodeURIComponent(stream)}`);
      const later = await record(context, stream, 'first');
      const got = await receivedAtLeast(later, history.length, `a later reader to get all ${history.length} messages again`).catch(
        (error: unknown) => {
          if (error instanceof CheckFailure)
            throw new CheckFailure(error.expected, `${error.seen} (the stream reports ${info.messages ?? '?'} messages)`);
          throw error;
        },
      );
      expectThat(got.map((r) => r.label).join() === history.join(), `a later reader to get ${history.join(', ')}`, () => describe(later));
    },
  },
  {
    id: '10.prefetch-acks',
    name: "the reader keeps to its prefetch, handles one message at a time in the stream's order, acks each once handled, and gets past one that fails",
    hint: 'A stream consumer needs a prefetch and manual acks; the broker refuses one without them (clause 6).',
    timeoutMs: 8000,
    async run(context) {
      const stream = await freshStream(context);
      const history = labels('work', 12);
      await append(context, stream, history);
      const prefetch = 3;
      // The handler holds the first message until the check lets go: nothing is acked meanwhile.
      let release = () => {};
      const gate = new Promise<void>((resolve) => (release = resolve));
      const reader = await record(context, stream, 'first', { prefetch, handleMs: 15, gate });
      await waitFor(
        () => (reader.deliveries() >= prefetch ? true : undefined),
        `the broker to deliver the first ${prefetch} messages (the prefetch)`,
        () => `${reader.deliveries()} deliveries; ${describe(reader)}`,
      ).catch((error: unknown) => {
        if (error instanceof CheckFailure) throw new CheckFailure(error.expected, error.seen, closeHint(reader) ?? error.hint);
        throw error;
      });
      // A prefetch kept: no more than that while none is acked. Given a moment to show otherwise.
      const beyond = await waitFor(
        () => (reader.deliveries() > prefetch ? reader.deliveries() : undefined),
        'more deliveries',
        () => 'none',
        400,
      ).catch(() => undefined);
      expectThat(
        beyond === undefined,
        `at most ${prefetch} messages delivered (the prefetch it was given) while the handler still works on the first`,
        `${beyond} delivered`,
        'The prefetch is the one the reader is given, and a message is acked once its handler has finished, not on arrival (clause 6).',
      );
      release();
      const received = await receivedAtLeast(
        reader,
        history.length,
        `all ${history.length} messages, ${prefetch} at a time: each ack makes room for the next`,
        4000,
      ).catch((error: unknown) => {
        if (error instanceof CheckFailure && reader.deliveries() === prefetch)
          throw new CheckFailure(
            error.expected,
            `${error.seen}: the deliveries stopped at the prefetch`,
            'Deliveries stop once the prefetch is full of unacknowledged ones: ack each message once it is handled (clause 6).',
          );
        throw error;
      });
      expectThat(
        reader.running.most === 1,
        'one handler at a time (the next message waits for the one before it)',
        `up to ${reader.running.most} handlers running at once`,
        'Chain each delivery to the one before it; ack it once its handler has finished (clause 6).',
      );
      expectThat(received.map((r) => r.label).join() === history.join(), "the messages in the stream's order", () => describe(reader));
      // A handler that throws: the message goes to onError, is acked all the same, and the reader goes on.
      const failing = history[1] as string;
      const second = await record(context, stream, 'first', { prefetch, failOn: failing });
      const rest = history.filter((label) => label !== failing);
      const got = await receivedAtLeast(second, rest.length, `the ${rest.length} other messages after ${failing} failed`).catch(
        (error: unknown) => {
          if (error instanceof CheckFailure)
            throw new CheckFailure(
              error.expected,
              `${error.seen}${second.failed.length ? `; onError got ${second.failed.join(', ')}` : ''}`,
              'A failed handler ends with the message acked and the next one handled: catch what it throws (clause 6).',
            );
          throw error;
        },
      );
      expectThat(
        got.map((r) => r.label).join() === rest.join() && second.failed.join() === failing,
        `every other message handled, and onError given ${failing} once`,
        () => `${describe(second)}; onError got ${second.failed.join(', ') || 'nothing'}`,
      );
    },
  },
]);
