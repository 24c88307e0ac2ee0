// Milestone 4: durability and publisher confirms. One check restarts a throwaway broker for real and
// looks at what came back; the others watch publishConfirmed settle (or not) against the live broker,
// many publishes in flight on one channel at a time, as the outbox relay publishes. The checks live
// by concept (what is declared, how publishes settle, the restart); this list fixes their order.
import { defineChecks } from '../../check.ts';
import { channelClosed, confirmed, nack } from './confirm-checks.ts';
import { durableTopology, persistent, quorum } from './declaration-checks.ts';
import { survivesRestart } from './restart-check.ts';
import { unroutable } from './unroutable-check.ts';

export const checks = defineChecks('durability', [
  durableTopology,
  quorum,
  persistent,
  confirmed,
  unroutable,
  nack,
  channelClosed,
  survivesRestart,
]);
