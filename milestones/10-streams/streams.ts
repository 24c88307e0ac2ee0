// Milestone 10 (optional, after the nine): the audit log as a stream, a log that any reader can
// replay from the start, from now on, or from a moment in time, without anyone publishing again.
// Read README.md in this folder first. Run `npm run milestone -- 10` to watch it work,
// `npm run grade -- 10` to check it, `npm run hint -- 10` when you are stuck.
import type { StreamLayer } from '../../shared/layers/10-streams.ts';
import { todo } from '../../shared/workshop/exercise.ts';

export const streams: StreamLayer = {
  async declareStream(channel, spec) {
    // 🐨 Make the broker hold `spec.name` as a log that keeps what it is given, and not forever:
    //    clause 1.
    void [channel, spec];
    return todo(import.meta.url, 'declareStream');
  },

  async read(channel, stream, handler, options) {
    // 🐨 Start reading `stream` where `options.from` says, in a way the broker accepts for a stream:
    //    clauses 2, 3, 4 and 5.
    // 🐨 Hand each message to the handler with its place in the stream, one at a time, in order, and
    //    tell the broker once it is handled, whatever the handler did: clauses 6 and 7.
    // 💰 Return { consumerTag, stop }: stop ends the deliveries, then waits for the handler still running.
    void [channel, stream, handler, options];
    return todo(import.meta.url, 'read');
  },
};
