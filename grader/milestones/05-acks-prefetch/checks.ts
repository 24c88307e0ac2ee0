// Milestone 5: manual acks, prefetch and idempotency. Each check runs the layer's consumer on a real
// queue with a handler the check controls (it can hold a message "in progress" as long as it likes),
// then looks at what the broker kept, redelivered or let go; processOnce runs on an SQLite store
// that can fail on purpose, or let a second worker handle the same message id. The checks live by
// concept (deliveries and acks, failures and stopping, processOnce); this list fixes their order.
import { defineChecks } from '../../check.ts';
import { prefetch, redelivered, settledOnce } from './delivery-checks.ts';
import { cancelled, failure, stopWaits } from './failure-and-stop-checks.ts';
import { processOnce, processOnceAtomic } from './process-once-checks.ts';

export const checks = defineChecks('acks', [
  redelivered,
  prefetch,
  settledOnce,
  failure,
  stopWaits,
  cancelled,
  processOnce,
  processOnceAtomic,
]);
