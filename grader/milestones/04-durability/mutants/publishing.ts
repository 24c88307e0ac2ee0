// Known-wrong publishConfirmed: the learner's publish (publisher.ts) with one step done the wrong way.
import { PublishRejectedError } from '../../../../shared/layers/04-durability.ts';
import { durability as reference } from '../../../../solutions/layers/04-durability.ts';
import type { Mutant } from '../../../mutant.ts';
import { type PublishSteps, publishConfirmedWith, watcher } from './publisher.ts';

/** A variant whose only mistake is the edited step of publishConfirmed. */
const publishing = (name: string, breaks: string[], edit: Partial<PublishSteps>): Mutant<'durability'> => ({
  name,
  breaks,
  layer: { ...reference, publishConfirmed: publishConfirmedWith(edit) },
});

export const optionsMutants: Mutant<'durability'>[] = [
  publishing('messages published transient (no persistent: true)', ['04.persistent', '04.survives-restart'], {
    options: (options, messageId) => ({ ...options, messageId, persistent: false, mandatory: true }),
  }),
  publishing(
    "the caller's options replaced by { messageId, persistent, mandatory }: content type, headers and priority lost",
    ['04.persistent'],
    {
      options: (_options, messageId) => ({ messageId, persistent: true, mandatory: true }),
    },
  ),
];

export const confirmMutants: Mutant<'durability'>[] = [
  publishing(
    'resolves as soon as channel.publish() returns, without waiting for the confirm',
    ['04.confirmed', '04.nack', '04.unroutable', '04.channel-closed'],
    {
      send: ({ channel, exchange, routingKey, content, options, watched, settle }) =>
        new Promise<void>((resolve, reject) => {
          try {
            channel.publish(exchange, routingKey, content, options, (error: unknown) => settle(error, resolve, reject));
            resolve();
          } catch (error) {
            reject(watched.closedBy ?? error);
          }
        }),
    },
  ),
  publishing('waits for the confirm only when publish() returned false', ['04.confirmed', '04.nack', '04.unroutable'], {
    send: ({ channel, exchange, routingKey, content, options, watched, settle }) =>
      new Promise<void>((resolve, reject) => {
        try {
          if (channel.publish(exchange, routingKey, content, options, (error: unknown) => settle(error, resolve, reject))) resolve();
        } catch (error) {
          reject(watched.closedBy ?? error);
        }
      }),
  }),
  publishing("no mandatory flag, no 'return' listener: an unroutable message counts as sent", ['04.unroutable'], {
    watch: watcher({ returns: false }),
    options: (options, messageId) => ({ ...options, messageId, persistent: true, mandatory: false }),
  }),
  publishing('returned message ids remembered forever: the same message published again still counts as returned', ['04.unroutable'], {
    returned: (watched, messageId) => watched.returned.has(messageId),
  }),
  publishing('channel.waitForConfirms() after each publish: one nack rejects every publish in flight', ['04.nack'], {
    send: ({ channel, exchange, routingKey, content, options, watched, settle }) =>
      new Promise<void>((resolve, reject) => {
        try {
          channel.publish(exchange, routingKey, content, options);
          channel.waitForConfirms().then(
            () => settle(undefined, resolve, reject),
            (error: unknown) => settle(error, resolve, reject),
          );
        } catch (error) {
          reject(watched.closedBy ?? error);
        }
      }),
  }),
  publishing('a nack treated as success', ['04.nack'], { rejection: () => undefined }),
  publishing(
    "the confirm callback's error passed on as it is (a nack is no PublishRejectedError, a closed channel has no reason)",
    ['04.nack', '04.channel-closed'],
    {
      rejection: (_watched, error) => error || undefined,
    },
  ),
  publishing('every error in the confirm callback called a nack, a closed channel too', ['04.channel-closed'], {
    rejection: (_watched, error) => (error ? new PublishRejectedError('nacked by the broker') : undefined),
  }),
  publishing('channel.publish called outside the promise: a closed channel throws at the caller', ['04.channel-closed'], {
    send({ channel, exchange, routingKey, content, options, settle }) {
      let done: { resolve: () => void; reject: (error: unknown) => void } | undefined;
      const confirmed = new Promise<void>((resolve, reject) => (done = { resolve, reject }));
      channel.publish(exchange, routingKey, content, options, (error: unknown) => done && settle(error, done.resolve, done.reject));
      return confirmed;
    },
  }),
];
