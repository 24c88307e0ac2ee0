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
    // 🐨 Hear about the messages the broker could not route (README § mandatory and basic.return).
    states.set(channel, (state = fresh));
  }
  return state;
}

export const durability: DurabilityLayer = {
  exchangeOptions(spec) {
    // 🐨 An exchange that survives a restart, with its alternate exchange when the spec names one
    //    (README § What a restart keeps, § The alternate exchange comes first).
    return todo(import.meta.url, 'exchangeOptions');
  },

  queueOptions(spec, queueType) {
    // 🐨 A queue that survives a restart, of the type that fits it (README § Classic or quorum queues).
    return todo(import.meta.url, 'queueOptions');
  },

  async publishConfirmed(channel, exchange, routingKey, message) {
    // 🐨 Settle only on the broker's answer to THIS publish, with many in flight on the channel
    //    (README § Publishing is not sending, § Many publishes in flight): resolve on its ack;
    //    reject with PublishRejectedError, saying why, when it was refused or sent back; reject
    //    with the broker's reason when the channel died (README § When the broker closes the channel).
    // 🐨 The message leaves persistent, with everything else the caller gave.
    void [randomUUID, PublishRejectedError, stateOf];
    return todo(import.meta.url, 'publishConfirmed');
  },
};
