// Milestone 4: durability and publisher confirms. Every exchange and queue of the order system is
// declared with your options, and every event the outbox relays goes out through publishConfirmed.
// Read README.md in this folder first. Run `npm run milestone -- 4` to watch it work,
// `npm run grade -- 4` to check it.
import { randomUUID } from 'node:crypto';
import type { ConfirmChannel } from 'amqplib';
import { type DurabilityLayer, PublishRejectedError } from '../../shared/layers/04-durability.ts';
import { todo } from '../../shared/workshop/exercise.ts';

// Given: one set of listeners per channel (not one per publish), found again through this map.
const returnedIds = new WeakMap<ConfirmChannel, Set<string>>();

/** The ids of this channel's messages that the broker sent back as unroutable (basic.return). */
function returnedOn(channel: ConfirmChannel): Set<string> {
  let ids = returnedIds.get(channel);
  if (!ids) {
    const returned = new Set<string>();
    channel.on('return', (message) => {
      // 🐨 The broker could not route this mandatory message, and its confirm comes right after.
      //    Remember it: returned.add(message.properties.messageId)
      void message;
    });
    // Given: without an 'error' listener, a channel the broker closes would crash the process.
    channel.on('error', () => {});
    returnedIds.set(channel, returned);
    ids = returned;
  }
  return ids;
}

export const durability: DurabilityLayer = {
  exchangeOptions(spec) {
    // 🐨 Return { durable, autoDelete, arguments } so the exchange survives a restart and, when
    //    spec.alternateExchange is set, has the argument 'alternate-exchange': spec.alternateExchange.
    return todo(import.meta.url, 'exchangeOptions');
  },

  queueOptions(spec, queueType) {
    // 🐨 Return { durable, arguments: { 'x-queue-type': ... } }:
    //    'quorum' only when queueType is 'quorum' AND spec.replicate AND there is no spec.maxPriority
    //    (quorum queues on RabbitMQ 3.10 refuse x-max-priority); 'classic' otherwise.
    return todo(import.meta.url, 'queueOptions');
  },

  async publishConfirmed(channel, exchange, routingKey, message) {
    // 🐨 1. const returned = returnedOn(channel), and a message id to match a return with:
    //       message.options.messageId, or randomUUID() when it has none.
    // 🐨 2. Return a new Promise that calls
    //       channel.publish(exchange, routingKey, message.content, options, callback)
    //       where options = the message's options plus messageId, persistent: true, mandatory: true.
    // 🐨 3. In callback(error), which runs when the broker's confirm arrives:
    //       - the id is in `returned` → reject(new PublishRejectedError('unroutable: ...'))
    //       - error is set (basic.nack) → reject(new PublishRejectedError('nacked by the broker'))
    //       - otherwise → resolve()
    //       and delete the id from `returned` either way.
    // 🐨 4. channel.publish throws when the channel is already closed: catch that and reject with it.
    // 💰 Never resolve because publish() returned true: that only means "in the local buffer".
    void [randomUUID, PublishRejectedError, returnedOn];
    return todo(import.meta.url, 'publishConfirmed');
  },
};
