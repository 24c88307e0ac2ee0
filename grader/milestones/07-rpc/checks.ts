// Milestone 7: RPC. The learner's client is called against hand-written servers (replies in reverse
// order, stray and late replies, nobody at all) and the reference server; the learner's server is
// driven with hand-made requests, the reference client, and a network that dies mid-request; finally
// both run inside the order system behind GET /orders/:id/payment. The checks live by side (client,
// its resources, server, both); this list fixes their order.
import { defineChecks } from '../../check.ts';
import { clientResources } from './client-resources-check.ts';
import { concurrentCalls, strayReply, timeout } from './client-checks.ts';
import { inTheSystem, remoteError } from './end-to-end-checks.ts';
import { replyThenAck, serveReplies } from './server-checks.ts';

export const checks = defineChecks('rpc', [
  concurrentCalls,
  timeout,
  strayReply,
  clientResources,
  serveReplies,
  replyThenAck,
  remoteError,
  inTheSystem,
]);
