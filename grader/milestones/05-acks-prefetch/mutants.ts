// Milestone 5's known-wrong ack layers and known-valid ones, gathered from mutants/: each wrong one
// is the reference with one step of consume done the wrong way (mutants/consumer.ts names the
// steps), a whole consume with a counter of its own, or a processOnce a learner writes.
import { defineAlternatives, defineMutants } from '../../mutant.ts';
import { ackingMutants } from './mutants/acking.ts';
import { alternatives as valid } from './mutants/alternatives.ts';
import { countingMutants } from './mutants/counting.ts';
import { deliveringMutants } from './mutants/delivering.ts';
import { failingMutants } from './mutants/failing.ts';
import { processOnceMutants } from './mutants/process-once.ts';
import { stoppingMutants } from './mutants/stopping.ts';

export const mutants = defineMutants('acks', [
  ...ackingMutants,
  ...failingMutants,
  ...deliveringMutants,
  ...stoppingMutants,
  ...countingMutants,
  ...processOnceMutants,
]);

export const alternatives = defineAlternatives('acks', valid);
