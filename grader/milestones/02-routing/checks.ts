// Milestone 2: routing. The learner's declareRoutes runs on a fresh vhost (queues declared first, as
// the runtime does) and the checks publish to the exchanges it declared and look where messages land.
// The checks live by concept (the routing key, the exchanges, where messages land, the headers
// exchange, declaring again, the running system); this list fixes their order.
import { defineChecks } from '../../check.ts';
import { retryRoute, subscriptions, unroutable } from './delivery-checks.ts';
import { exchanges } from './exchange-checks.ts';
import { headersRoute } from './headers-check.ts';
import { redeclare } from './redeclare-check.ts';
import { routingKey } from './routing-key-check.ts';
import { inTheSystem } from './system-check.ts';

export const checks = defineChecks('routing', [
  routingKey,
  exchanges,
  subscriptions,
  retryRoute,
  headersRoute,
  unroutable,
  redeclare,
  inTheSystem,
]);
