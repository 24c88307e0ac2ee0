// Whole publishConfirmed functions a learner writes to match returned messages to their publish:
// known-wrong ones (a listener per publish never removed, a return taken by whichever confirm comes
// next) and a known-valid one (a listener per publish, removed at its confirm).
import { randomUUID } from 'node:crypto';
import type { ConfirmChannel } from 'amqplib';
import { PublishRejectedError } from '../../../../shared/layers/04-durability.ts';
import { durability as reference } from '../../../../solutions/layers/04-durability.ts';
import type { Mutant } from '../../../mutant.ts';
import { type Publish, watcher } from './publisher.ts';

const watchErrors = watcher({ returns: false });

/** A valid way to match returns: a 'return' listener per publish, removed when its confirm arrives. */
export const listenerPerPublish: Publish = (channel, exchange, routingKey, message) => {
  const state = watchErrors(channel);
  const messageId: string = message.options.messageId ?? randomUUID();
  return new Promise<void>((resolve, reject) => {
    let returned = false;
    const onReturn = (bounced: { properties: { messageId?: string } }) => {
      if (bounced.properties.messageId === messageId) returned = true;
    };
    channel.on('return', onReturn);
    try {
      channel.publish(
        exchange,
        routingKey,
        message.content,
        { ...message.options, messageId, deliveryMode: 2, mandatory: true },
        (error: unknown) => {
          channel.off('return', onReturn);
          if (returned) reject(new PublishRejectedError(`NO_ROUTE from ${exchange}`));
          else if (!error) resolve();
          else reject(state.closedBy ?? new PublishRejectedError('the broker nacked it'));
        },
      );
    } catch (error) {
      channel.off('return', onReturn);
      reject(state.closedBy ?? error);
    }
  });
};

/**
 * A 'return' listener added per publish and never removed: with `once`, any return marks every
 * publish in flight; with `on`, the right one, but the listeners pile up.
 */
function returnListenerPerPublish(listen: 'once' | 'on'): Publish {
  return (channel, exchange, routingKey, message) =>
    new Promise<void>((resolve, reject) => {
      const messageId: string = message.options.messageId ?? randomUUID();
      let returned = false;
      channel.setMaxListeners(0);
      channel[listen]('return', (bounced: { properties: { messageId?: string } }) => {
        if (listen === 'once' || bounced.properties.messageId === messageId) returned = true;
      });
      channel.publish(
        exchange,
        routingKey,
        message.content,
        { ...message.options, messageId, persistent: true, mandatory: true },
        (error: unknown) => {
          if (returned) reject(new PublishRejectedError(`unroutable: '${routingKey}'`));
          else if (error) reject(new PublishRejectedError('nacked'));
          else resolve();
        },
      );
    });
}

/**
 * A return remembered per channel, not per message: the next confirm to arrive takes it, as if a
 * return and the confirm after it always belonged to the same publish. `count` keeps a count of
 * returns rather than a flag.
 */
function returnTakenByNextConfirm(count: boolean): Publish {
  const returns = new WeakMap<ConfirmChannel, { waiting: number }>();
  return (channel, exchange, routingKey, message) => {
    let state = returns.get(channel);
    if (!state) {
      const fresh = { waiting: 0 };
      channel.on('return', () => (fresh.waiting = count ? fresh.waiting + 1 : 1));
      channel.on('error', () => {});
      returns.set(channel, (state = fresh));
    }
    const watched = state;
    return new Promise<void>((resolve, reject) => {
      try {
        channel.publish(
          exchange,
          routingKey,
          message.content,
          { ...message.options, persistent: true, mandatory: true },
          (error: unknown) => {
            if (watched.waiting > 0) {
              watched.waiting--;
              reject(new PublishRejectedError(`unroutable: nothing bound to '${routingKey}'`));
            } else if (error) reject(new PublishRejectedError('nacked by the broker'));
            else resolve();
          },
        );
      } catch (error) {
        reject(error);
      }
    });
  };
}

export const returnMutants: Mutant<'durability'>[] = [
  {
    name: "a channel.once('return') per publish: the first return marks every publish in flight",
    breaks: ['04.unroutable'],
    layer: { ...reference, publishConfirmed: returnListenerPerPublish('once') },
  },
  {
    name: "a 'return' listener added per publish and never removed",
    breaks: ['04.unroutable'],
    layer: { ...reference, publishConfirmed: returnListenerPerPublish('on') },
  },
  {
    name: 'a returned flag per channel, taken by the next confirm: "the return comes just before its own confirm"',
    breaks: ['04.unroutable'],
    layer: { ...reference, publishConfirmed: returnTakenByNextConfirm(false) },
  },
  {
    name: 'a count of returns per channel, each taken by the next confirm to arrive',
    breaks: ['04.unroutable'],
    layer: { ...reference, publishConfirmed: returnTakenByNextConfirm(true) },
  },
];
