// Small helpers checks share: sample events, sending through a real queue, waiting with a deadline.
import type { ConfirmChannel, GetMessage, Options } from 'amqplib';
import { MalformedMessageError } from '../../shared/layers/01-publish-consume.ts';
import { type DomainEvent, newEvent } from '../../shared/messages/events.ts';
import { CheckFailure, machineTooBusy } from '../check.ts';
import { budget } from '../stolen-time.ts';

export function sampleOrderCreated(orderId = `order-${Math.random().toString(36).slice(2, 8)}`): DomainEvent {
  return newEvent('order.created', { orderId, source: 'order', payload: { user: 'gayal', items: [{ sku: 'item1', quantity: 2 }] } });
}

/** Sends content to a fresh queue and gets it back the way a consumer would receive it. */
export async function throughQueue(channel: ConfirmChannel, content: Buffer, options: Options.Publish): Promise<GetMessage> {
  const { queue } = await channel.assertQueue('', { exclusive: true });
  channel.sendToQueue(queue, content, options);
  await channel.waitForConfirms();
  const message = await channel.get(queue, { noAck: true });
  if (!message) throw new CheckFailure(`the message to arrive in the queue`, 'an empty queue');
  return message;
}

/** Calls decode and returns the MalformedMessageError it throws, or fails the check. */
export function malformedReason(decode: () => unknown, what: string): string {
  let result: unknown;
  try {
    result = decode();
  } catch (error) {
    if (error instanceof MalformedMessageError) return error.reason;
    if (error instanceof Error && error.name === 'ExerciseNotWrittenError') throw error;
    throw new CheckFailure(
      `decode to throw MalformedMessageError for ${what}`,
      `it threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
    );
  }
  throw new CheckFailure(`decode to throw MalformedMessageError for ${what}`, `it returned ${JSON.stringify(result)?.slice(0, 120)}`);
}

/**
 * Polls until probe returns a value, or fails the check with `expected` after timeoutMs of time the
 * grader could run: a busy machine stretches the wait (stolen-time.ts), and when it took so much
 * that the wait ran out short, the check could not be judged (CannotJudgeError), never a fail.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  expected: string,
  seen: () => string,
  timeoutMs = 3000,
): Promise<T> {
  const time = budget(timeoutMs);
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (time.left() < 0) {
      if (!time.shortChanged()) throw new CheckFailure(expected, seen());
      const { wallMs, stolenMs } = time.used();
      throw machineTooBusy(
        `waited ${(wallMs / 1000).toFixed(1)} s for ${expected}, but the machine kept the grader from running for ${(stolenMs / 1000).toFixed(1)} s of them (it saw ${seen()})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * An AbortSignal for a call the check makes (an HTTP request to a service it started) that aborts
 * after `ms` of time the grader could run, as waitFor counts it: with a CheckFailure saying what did
 * not answer, or with could-not-judge when the machine took so much of the time that the call ran
 * out short. AbortSignal.timeout counts wall time, which a busy machine would turn into a fail.
 */
export function callTimeout(ms: number, what: string): AbortSignal {
  const controller = new AbortController();
  const time = budget(ms);
  const check = () => {
    if (time.left() > 0) {
      setTimeout(check, Math.max(1, time.left())).unref();
      return;
    }
    const { wallMs, stolenMs } = time.used();
    controller.abort(
      time.shortChanged()
        ? machineTooBusy(
            `${what} had not answered after ${(wallMs / 1000).toFixed(1)} s, but the machine kept the grader from running for ${(stolenMs / 1000).toFixed(1)} s of them`,
          )
        : new CheckFailure(`${what} to answer within ${ms / 1000} s`, 'no answer'),
    );
  };
  setTimeout(check, ms).unref();
  return controller.signal;
}

/**
 * Gives a channel (or connection) a do-nothing 'error' listener, for one the check expects the broker
 * may close: a 404 from checkQueue, a restart, the graded layer's mistake. The call that caused it
 * rejects and the check reports that; without a listener amqplib's 'error' event would crash the grader.
 */
export function ignoreErrorsTheCheckReports<T extends { on(event: 'error', listener: (error: Error) => void): unknown }>(emitter: T): T {
  emitter.on('error', () => {});
  return emitter;
}
