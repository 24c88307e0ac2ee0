// Milestone 6: dead letters and retries. What happens to a message after its handler failed.
// Read README.md in this folder first. Run `npm run milestone -- 6` to watch it work,
// `npm run grade -- 6` to check it, `npm run hint -- 6` when you are stuck.
import type { ConfirmChannel, ConsumeMessage, Message } from 'amqplib';
import { todo } from '../../shared/workshop/exercise.ts';
import { type DeadLetterLayer, type FailureOutcome, PARK_HEADERS } from '../../shared/layers/06-dead-letters.ts';
import { describeError } from '../../shared/log.ts';
import { EXCHANGES } from '../../shared/topology/topology.ts';
import type { QueueSpec } from '../../shared/topology/types.ts';

function queueArguments(spec: QueueSpec): Record<string, unknown> {
  // 🐨 The arguments that make this queue dead-letter and expire messages exactly as its spec says
  //    (its failure policy, deadLetterTo, messageTtlMs), and none it does not. A retrying queue's
  //    rejects must land in its own `<queue>.retry`. See README § Dead-lettering and § TTL.
  return todo(import.meta.url, 'queueArguments');
}

function attemptsSoFar(message: Pick<Message, 'properties'>, queue: string): number {
  // 🐨 How many times this message already failed in `queue`, read from what the broker wrote on it.
  //    Each failed try must count once. See README § x-death.
  return todo(import.meta.url, 'attemptsSoFar');
}

async function park(channel: ConfirmChannel, message: ConsumeMessage, reason: string, spec: QueueSpec): Promise<void> {
  // 🐨 Put a copy in dead-letter.queue (through EXCHANGES.deadLetter) that a person can read and
  //    replay: everything the original carried, plus the PARK_HEADERS telling its story; it must
  //    survive a broker restart. Then the original goes, but never before the copy is safe, and if
  //    the broker refuses the copy the original stays and park fails. See README § Parking.
  return todo(import.meta.url, 'park');
}

async function handleFailure(channel: ConfirmChannel, message: ConsumeMessage, error: unknown, spec: QueueSpec): Promise<FailureOutcome> {
  // 🐨 Decide by spec.failure: a queue without retries parks at once; a retrying queue sends the
  //    message to wait in its retry queue until it has had maxAttempts tries, then parks it.
  //    Settle the delivery exactly once either way. See README § The retry loop and § Parking.
  //    Reasons for x-failure-reason: `handler failed: ${describeError(error)}` (no retries),
  //    `failed ${attempts} times, last error: ${describeError(error)}` (out of attempts).
  return todo(import.meta.url, 'handleFailure');
}

export const deadLetters: DeadLetterLayer = { queueArguments, attemptsSoFar, handleFailure, park };
