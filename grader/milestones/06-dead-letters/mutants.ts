// Known-wrong dead-letter layers for milestone 6, each a mistake a learner makes (the reference with
// one thing done the wrong way, mutants/known-wrong.ts), and known-valid ones that do it another
// right way (mutants/known-valid.ts), both built from the reference's parts in mutants/steps.ts.
import { defineAlternatives, defineMutants } from '../../mutant.ts';
import { knownValid } from './mutants/known-valid.ts';
import { knownWrong } from './mutants/known-wrong.ts';

export const mutants = defineMutants('deadLetters', knownWrong);

export const alternatives = defineAlternatives('deadLetters', knownValid);
