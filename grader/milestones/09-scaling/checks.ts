// Milestone 9: competing consumers. The learner's pool runs workers that consume with the reference
// layer 5 (manual acks, prefetch); the checks count who handled what, how much a slow worker holds,
// which channels the pool opened and closed (each channel's close is the broker's close-ok), what
// the queue's consumer count says, and in which order the service queues of the real topology
// deliver express and standard events published as the runtime publishes them. The pool checks and
// the priority check live in files of their own; this list fixes their order.
import { defineChecks } from '../../check.ts';
import { failedStart, scaleDown, scaleTo, shareLoad, slowWorker } from './pool-checks.ts';
import { priority } from './priority-check.ts';

export const checks = defineChecks('scaling', [shareLoad, slowWorker, priority, scaleDown, scaleTo, failedStart]);
