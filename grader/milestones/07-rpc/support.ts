// What milestone 7's checks observe with: calls that settle (or not) within a bound, the reply
// queues and consumers a client leaves on the broker, the timers it leaves running, whether a
// timed-out call is still held in memory, and a network that dies at the moment a server settles
// a request.
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Channel, ChannelModel } from 'amqplib';
import { ExerciseNotWrittenError } from '../../../shared/workshop/exercise.ts';
import type { CheckContext } from '../../check.ts';
import { ignoreErrorsTheCheckReports } from '../../checks/support.ts';

export async function freshQueue(channel: Channel): Promise<string> {
  const { queue } = await channel.assertQueue(`rpc.${randomUUID().slice(0, 8)}`, { durable: false });
  return queue;
}

/**
 * A channel for the learner's code. A consume callback that throws is reported on 'handler-error'
 * (without a listener it would break the whole connection), and so is an async one that rejects.
 */
export async function watchedChannel(
  connection: ChannelModel,
  onCleanup: CheckContext['onCleanup'],
): Promise<{ channel: Channel; thrown: unknown[] }> {
  const channel = await connection.createChannel();
  const thrown: unknown[] = [];
  channel.on('handler-error', (error: unknown) => thrown.push(error));
  channel.on('error', (error: unknown) => thrown.push(error));
  const unhandled = (error: unknown) => thrown.push(error);
  process.on('unhandledRejection', unhandled);
  onCleanup(() => void process.off('unhandledRejection', unhandled));
  return { channel, thrown };
}

export type Outcome = { resolved: unknown } | { rejected: unknown } | { pending: true };

/** Waits for a call to settle, up to `ms`, and says how it ended; the starter's 🚨 propagates. */
export async function settle(call: Promise<unknown>, ms: number): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    call.then(
      (resolved): Outcome => ({ resolved }),
      (rejected: unknown): Outcome => ({ rejected }),
    ),
    new Promise<Outcome>((resolve) => (timer = setTimeout(() => resolve({ pending: true }), ms))),
  ]);
  clearTimeout(timer); // a timer left running would keep the grader alive after the last check
  if ('rejected' in outcome && outcome.rejected instanceof ExerciseNotWrittenError) throw outcome.rejected;
  return outcome;
}

export function describeOutcome(outcome: Outcome): string {
  if ('resolved' in outcome) return `it resolved with ${JSON.stringify(outcome.resolved)}`;
  if ('rejected' in outcome) {
    const error = outcome.rejected;
    return `it rejected with ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
  }
  return 'it was still waiting';
}

export const isTimeout = (error: unknown): boolean => error instanceof Error && error.name === 'RpcTimeoutError';

/** Timers keeping this process alive (unref'd ones, such as AbortSignal.timeout's, do not count). */
export function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
}

let gc: (() => void) | undefined;

/**
 * How many of these objects are still reachable after a full garbage collection. Up to V8 13 (Node
 * 24) a settled promise's resolve and reject functions keep the promise, and so its reason: an error
 * a call rejected with stays reachable while the client keeps that call somewhere. From V8 14 (Node
 * 25 and later) they let go once the promise is settled, so this says 0 there: see firedTimersHeld.
 */
export async function stillHeld(refs: WeakRef<object>[]): Promise<number> {
  await collectGarbage();
  return refs.filter((ref) => ref.deref() !== undefined).length;
}

/** A full garbage collection, twice, each in a turn of its own. */
async function collectGarbage(): Promise<void> {
  if (!gc) {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
  }
  // A WeakRef's target is kept until the end of the job that created or read it, and a fired timer
  // leaves Node's lists after its turn: collect in later ones.
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
}

const probe = setTimeout(() => {}, 0);
const Timeout = probe.constructor as new () => object;
clearTimeout(probe);

/**
 * How many timer objects of setTimeout(…, durationMs) that already fired are still in memory after a
 * full garbage collection. On every Node, a call a client still holds keeps its timer object: its
 * reply handler needs it to clear the timer. Other code's timers are told apart by their duration.
 * v8.queryObjects's "experimental" warning is kept from the learner's output.
 */
export async function firedTimersHeld(durationMs: number): Promise<number> {
  await collectGarbage();
  const emitWarning = process.emitWarning;
  process.emitWarning = () => {};
  try {
    const timers = v8.queryObjects(Timeout, { format: 'summary' });
    return timers.filter((timer) => timer.includes(`_idleTimeout: ${durationMs},`) && timer.includes('_destroyed: true')).length;
  } finally {
    process.emitWarning = emitWarning;
  }
}

/** The queues of the check's vhost other than `known`, with their consumers (read over AMQP: the management API's counts lag). */
export async function otherQueues(
  context: CheckContext,
  connection: ChannelModel,
  known: string[],
): Promise<Array<{ name: string; consumers: number }>> {
  const listed = await context.vhost.api.request<Array<{ name: string }>>(
    'GET',
    `/queues/${encodeURIComponent(context.vhost.name)}?columns=name`,
  );
  const queues: Array<{ name: string; consumers: number }> = [];
  for (const { name } of listed.filter((queue) => !known.includes(queue.name))) {
    const channel = ignoreErrorsTheCheckReports(await connection.createChannel()); // a queue deleted in between: a 404 closes this channel
    try {
      const { consumerCount } = await channel.checkQueue(name);
      queues.push({ name, consumers: consumerCount });
      await channel.close();
    } catch {
      // gone meanwhile: not left behind
    }
  }
  return queues;
}

export interface CuttingRelay {
  /** An AMQP URL to the check's vhost through the relay. */
  url: string;
  /** The network dies now: what the client sent so far reached the broker, nothing after it does. */
  cut(): void;
  /**
   * From now on, the network dies right after the first frame that settles a delivery (basic.ack,
   * nack or reject) or the first complete publish (a reply) has reached the broker. Resolves with
   * which one it was.
   */
  cutAfterFirstSettleOrPublish(): Promise<'settle' | 'publish'>;
}

const BASIC = 60;
const SETTLE_METHODS = new Set([80 /* ack */, 90 /* reject */, 120 /* nack */]);
const PUBLISH = 40;
const FRAME_METHOD = 1;
const FRAME_HEADER = 2;
const FRAME_BODY = 3;

interface FramesSeen {
  /** A publish whose content is still coming: the bytes of its body not seen yet (undefined before its header frame). */
  publish?: { remaining: bigint | undefined };
}

/** Whether `frame` (its payload `size` bytes) completes a settle (ack, reject, nack) or a publish (its last body frame); updates `seen`. */
function whatFrameCompletes(frame: Buffer, size: number, seen: FramesSeen): 'settle' | 'publish' | undefined {
  const type = frame[0];
  const payload = frame.subarray(7, 7 + size);
  const { publish } = seen;
  if (type === FRAME_METHOD && payload.readUInt16BE(0) === BASIC) {
    const method = payload.readUInt16BE(2);
    if (SETTLE_METHODS.has(method)) return 'settle';
    if (method === PUBLISH) seen.publish = { remaining: undefined };
  } else if (type === FRAME_HEADER && publish) {
    publish.remaining = payload.readBigUInt64BE(4);
    if (publish.remaining === 0n) return 'publish';
  } else if (type === FRAME_BODY && publish?.remaining !== undefined) {
    publish.remaining -= BigInt(size);
    if (publish.remaining <= 0n) return 'publish';
  }
  return undefined;
}

/**
 * A TCP relay between the server's connection and the broker that reads the AMQP frames the client
 * sends, so a check can make the connection die at a precise moment, as a crash would.
 */
export async function cuttingRelay(context: CheckContext): Promise<CuttingRelay> {
  const broker = new URL(context.vhost.url);
  const pipes: Array<{ cut(): void; destroy(force?: boolean): void }> = [];
  let armed: ((what: 'settle' | 'publish') => void) | undefined;

  const server = net.createServer((client) => {
    const upstream = net.connect(Number(broker.port || 5672), broker.hostname);
    let dead = false;
    let flushing = false; // cut: what was sent still goes to the broker
    let pending = Buffer.alloc(0);
    let headerSeen = false; // the 8-byte protocol header comes before the frames
    const frames: FramesSeen = {};
    const cut = () => {
      if (dead) return;
      dead = true;
      flushing = true;
      upstream.end(); // what was written still reaches the broker, then it sees the connection close
      client.destroy();
    };
    const destroy = (force = false) => {
      dead = true;
      client.destroy();
      if (force || !flushing) upstream.destroy();
    };
    pipes.push({ cut, destroy });
    client.on('error', () => destroy()).on('close', () => destroy());
    upstream.on('error', () => destroy(true)).on('close', () => destroy(true));
    client.on('data', (chunk: Buffer) => {
      if (dead) return;
      pending = Buffer.concat([pending, chunk]);
      if (!headerSeen) {
        if (pending.length < 8) return;
        upstream.write(pending.subarray(0, 8));
        pending = pending.subarray(8);
        headerSeen = true;
      }
      while (!dead && pending.length >= 7) {
        const size = pending.readUInt32BE(3);
        if (pending.length < 8 + size) break;
        const frame = pending.subarray(0, 8 + size);
        pending = pending.subarray(8 + size);
        upstream.write(frame);
        if (!armed) continue;
        const done = whatFrameCompletes(frame, size, frames);
        if (done) {
          const resolve = armed;
          armed = undefined;
          frames.publish = undefined;
          cut();
          resolve(done);
        }
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!dead) client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  context.onCleanup(() => {
    for (const pipe of pipes) pipe.destroy(true);
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const url = Object.assign(new URL(context.vhost.url), { host: `127.0.0.1:${(server.address() as net.AddressInfo).port}` });
  return {
    url: url.toString(),
    cut: () => {
      for (const pipe of pipes) pipe.cut();
    },
    cutAfterFirstSettleOrPublish: () => new Promise((resolve) => (armed = resolve)),
  };
}
