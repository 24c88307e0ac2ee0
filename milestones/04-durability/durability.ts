// Milestone 4: durability and publisher confirms. Every exchange and queue of the order system is
// declared with your options, and every event the outbox relays goes out through publishConfirmed.
// Read README.md in this folder first. Run `npm run milestone -- 4` to watch it work,
// `npm run grade -- 4` to check it, `npm run hint -- 4` when stuck.
import { randomUUID } from 'node:crypto';
import type { ConfirmChannel } from 'amqplib';
import { type DurabilityLayer, PublishRejectedError } from '../../shared/layers/04-durability.ts';
import { todo } from '../../shared/workshop/exercise.ts';

/** What we keep per channel, not per publish: many publishes share one channel. */
interface ChannelState {
  /** Ids of this channel's messages that the broker sent back, for you to fill (and empty). */
  returned: Set<string>;
  /** Why the broker closed this channel, once it has. */
  closedBy?: Error;
}

const states = new WeakMap<ConfirmChannel, ChannelState>();

/** The state of this channel, with its listeners added the first time it is asked for. */
function stateOf(channel: ConfirmChannel): ChannelState {
  let state = states.get(channel);
  if (!state) {
    const fresh: ChannelState = { returned: new Set() };
    // Given: the broker's reason for closing the channel (and no crash: an 'error' nobody listens to throws).
    channel.on('error', (error) => (fresh.closedBy = error));
    // 🐨 Hear about the messages the broker sends back, for every publish on this channel (meets clauses 5 and 6).
    states.set(channel, (state = fresh));
  }
  return state;
}

export const durability: DurabilityLayer = {
  exchangeOptions(spec) {
    // 🐨 The options every exchange of the topology is declared with (meets clauses 1 and 9).
    return todo(import.meta.url, 'exchangeOptions');
  },

  queueOptions(spec, queueType) {
    // 🐨 The options every queue of the topology is declared with, for the queue type asked for
    //    (meets clauses 2 and 9).
    return todo(import.meta.url, 'queueOptions');
  },

  async publishConfirmed(channel, exchange, routingKey, message) {
    // 🐨 Publish the message as the caller gave it, so that it survives a restart (meets clauses 3 and 9).
    // 🐨 Settle with the broker's answer to THIS publish, many being in flight on the channel
    //    (meets clauses 4, 5, 6, 7 and 8).
    void [randomUUID, PublishRejectedError, stateOf];
    return todo(import.meta.url, 'publishConfirmed');
  },
};
