// Layer 4: durable exchanges and queues, persistent messages, and publisher confirms: a publish
// resolves only once the broker has taken responsibility for the message.
import { randomUUID } from 'node:crypto';
import type { ConfirmChannel } from 'amqplib';
import { type DurabilityLayer, PublishRejectedError } from '../../shared/layers/04-durability.ts';

/** What one confirm channel tells us besides the confirm itself, kept once per channel. */
interface ChannelWatch {
  /** Publishes awaiting their confirm, by message id; `returned` is set by basic.return. */
  pending: Map<string, { returned: boolean }>;
  closed: boolean;
  error?: Error;
  drained?: Promise<void>;
}

// One set of listeners per channel (not per publish), so thousands of publishes add none.
const watches = new WeakMap<ConfirmChannel, ChannelWatch>();

function watch(channel: ConfirmChannel): ChannelWatch {
  const state = watches.get(channel);
  if (state) return state;
  const watched: ChannelWatch = { pending: new Map(), closed: false };
  // An unroutable mandatory message comes back as basic.return *before* its basic.ack.
  channel.on('return', (message) => {
    const publish = watched.pending.get(message.properties.messageId);
    if (publish) publish.returned = true;
  });
  // The broker's reason for closing the channel (e.g. NOT_FOUND): a better rejection than "channel closed".
  // Having a listener also means a broker-closed channel rejects publishes instead of crashing the process.
  channel.on('error', (error) => {
    watched.error = error;
  });
  // Prepended so it runs before amqplib fails the unconfirmed callbacks on close.
  channel.prependListener('close', () => {
    watched.closed = true;
  });
  watches.set(channel, watched);
  return watched;
}

/** Resolves at the channel's next 'drain' (or close); shared by every publish waiting for it. */
function drained(channel: ConfirmChannel, state: ChannelWatch): Promise<void> {
  state.drained ??= new Promise<void>((resolve) => {
    const done = () => {
      channel.off('drain', done);
      channel.off('close', done);
      state.drained = undefined;
      resolve();
    };
    channel.on('drain', done);
    channel.on('close', done);
  });
  return state.drained;
}

export const durability: DurabilityLayer = {
  exchangeOptions: (spec) => ({
    durable: true,
    autoDelete: false,
    arguments: spec.alternateExchange ? { 'alternate-exchange': spec.alternateExchange } : {},
  }),

  queueOptions: (spec, queueType) => ({
    durable: true,
    // Quorum queues replicate, but ignore priorities on 3.10: priority queues stay classic.
    arguments: { 'x-queue-type': queueType === 'quorum' && spec.replicate && !spec.maxPriority ? 'quorum' : 'classic' },
  }),

  async publishConfirmed(channel, exchange, routingKey, message) {
    const state = watch(channel);
    const messageId: string = message.options.messageId ?? randomUUID();
    const publish = { returned: false };
    state.pending.set(messageId, publish);

    let writable = true;
    const confirmed = new Promise<void>((resolve, reject) => {
      // mandatory: an unroutable message is returned to us instead of being silently dropped.
      const options = { ...message.options, messageId, persistent: true, mandatory: true };
      try {
        writable = channel.publish(exchange, routingKey, message.content, options, (error: Error | null) => {
          if (publish.returned)
            reject(new PublishRejectedError(`unroutable: exchange '${exchange}' has no binding for routing key '${routingKey}'`));
          else if (!error) resolve();
          else if (state.closed) reject(state.error ?? error);
          else reject(new PublishRejectedError('nacked by the broker'));
        });
      } catch (error) {
        reject(state.error ?? error); // the channel was closed before we published
      }
    }).finally(() => state.pending.delete(messageId));

    // publish() returning false means the channel's write buffer is full: slow down until it drains.
    await Promise.all([confirmed, writable ? undefined : drained(channel, state)]);
  },
};
