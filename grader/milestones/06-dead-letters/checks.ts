// Milestone 6: dead letters and retries. The checks fail messages on purpose and watch where the
// broker takes them: into `<queue>.retry` and back (timestamps, x-death, the redelivered flag), or
// into dead-letter.queue (the copy's properties and headers); and whether each original was settled
// exactly once. Only the part under test is the learner's: the queues are declared with the reference
// arguments except in the check of queueArguments itself. The checks live by concept (arguments,
// the retry loop, parking, the broker's delayed retry of RabbitMQ 4.3+); this list fixes their order.
import { defineChecks } from '../../check.ts';
import { attemptsSoFar, queueArguments } from './argument-checks.ts';
import { delayedRetry } from './delayed-retry-checks.ts';
import { parkAtOnce, parkConfirmed, parkedCopy } from './park-checks.ts';
import { retryDelay, retryThenPark } from './retry-checks.ts';

export const checks = defineChecks('deadLetters', [
  queueArguments,
  attemptsSoFar,
  retryThenPark,
  retryDelay,
  parkedCopy,
  parkAtOnce,
  parkConfirmed,
  delayedRetry,
]);
