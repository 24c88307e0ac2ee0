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
  // 🐨 The arguments that make this queue dead-letter and expire messages as its spec says, or hold
  //    a failed message itself where spec.failure says it waits in the queue: clauses 1 and 10.
  return todo(import.meta.url, 'queueArguments');
}

function attemptsSoFar(message: Pick<Message, 'properties'>, spec: QueueSpec): number {
  // 🐨 How many times this message already failed in the spec's queue, counted by the broker: clauses 2 and 10.
  return todo(import.meta.url, 'attemptsSoFar');
}

async function park(channel: ConfirmChannel, message: ConsumeMessage, reason: string, spec: QueueSpec): Promise<void> {
  // 🐨 A copy in dead-letter.queue (through EXCHANGES.deadLetter) that a person can read and replay,
  //    and the original answered without ever being lost: clauses 6, 7 and 9.
  return todo(import.meta.url, 'park');
}

async function handleFailure(channel: ConfirmChannel, message: ConsumeMessage, error: unknown, spec: QueueSpec): Promise<FailureOutcome> {
  // 🐨 By spec.failure, a retry later or the message parked, and the outcome returned: clauses 3, 4,
  //    5, 6, 7, 8, 9 and 10.
  // 💰 The x-failure-reason texts the system uses: `handler failed: ${describeError(error)}` (no
  //    retries), `failed ${attempts} times, last error: ${describeError(error)}` (out of attempts).
  return todo(import.meta.url, 'handleFailure');
}

export const deadLetters: DeadLetterLayer = { queueArguments, attemptsSoFar, handleFailure, park };
