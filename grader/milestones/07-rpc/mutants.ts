// Milestone 7's known-wrong RPC layers and known-valid ones, gathered from mutants/: each wrong one
// is the reference client (mutants/client.ts) or server (mutants/server.ts) with one step done the
// wrong way; the valid ones are whole clients and servers a learner may write instead.
import { defineAlternatives, defineMutants } from '../../mutant.ts';
import { alternatives as valid } from './mutants/alternatives.ts';
import { clientMutants } from './mutants/client-mutants.ts';
import { serverMutants } from './mutants/server-mutants.ts';

export const mutants = defineMutants('rpc', [...clientMutants, ...serverMutants]);

export const alternatives = defineAlternatives('rpc', valid);
