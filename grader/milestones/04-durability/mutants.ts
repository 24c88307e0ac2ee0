// Known-wrong durability layers for milestone 4, and known-valid ones. The broker-restart check
// restarts for real only once per state it starts from, and fails before restarting when what would
// be lost already shows: a variant that only breaks publishing costs no restart.
import { randomUUID } from 'node:crypto';
import type { ConfirmChannel, Options } from 'amqplib';
import { type DurabilityLayer, PublishRejectedError } from '../../../shared/layers/04-durability.ts';
import { durability as reference } from '../../../solutions/layers/04-durability.ts';
import { defineAlternatives, defineMutants } from '../../mutant.ts';

type Publish = DurabilityLayer['publishConfirmed'];

interface Mistakes {
  transient?: boolean;
  /** The caller's options thrown away: only messageId, persistent and mandatory are sent. */
  replaceOptions?: boolean;
  /** Resolves when channel.publish() returns, not when the confirm arrives. */
  resolveOnWrite?: boolean;
  /** Waits for the confirm only when publish() returned false (a full write buffer). */
  confirmOnlyWhenFull?: boolean;
  /** No mandatory flag and no 'return' listener: an unroutable message is dropped and confirmed. */
  ignoreReturns?: boolean;
  /** Keeps the returned ids forever: a message published again with the same id is "returned" again. */
  neverForget?: boolean;
  /** `channel.waitForConfirms()` after each publish: it waits for (and fails with) every publish in flight. */
  waitForAllConfirms?: boolean;
  nackIsSuccess?: boolean;
  /** Rejects with the callback's error as it is: a nack is a plain Error, a closed channel says only "channel closed". */
  callbackErrorAsIs?: boolean;
  /** Any error in the callback is "nacked by the broker", a closed channel too. */
  everyErrorIsNack?: boolean;
  /** channel.publish outside the promise: on a closed channel it throws at the caller. */
  throwsAtCaller?: boolean;
}

/** What a learner keeps per channel: the ids the broker returned, and why it closed the channel. */
const channels = new WeakMap<ConfirmChannel, { returned: Set<string>; closedBy?: Error }>();

function watched(channel: ConfirmChannel, listenForReturns: boolean) {
  let state = channels.get(channel);
  if (!state) {
    const fresh: { returned: Set<string>; closedBy?: Error } = { returned: new Set() };
    if (listenForReturns) channel.on('return', (bounced) => fresh.returned.add(bounced.properties.messageId));
    channel.on('error', (error) => (fresh.closedBy = error));
    channels.set(channel, (state = fresh));
  }
  return state;
}

/** publishConfirmed as the starter leads a learner to write it (no backpressure), with mistakes. */
function publishConfirmedWith(mistakes: Mistakes): Publish {
  const publish: Publish = (channel, exchange, routingKey, message) => {
    const state = watched(channel, !mistakes.ignoreReturns);
    const messageId: string = message.options.messageId ?? randomUUID();
    const ours = { messageId, persistent: !mistakes.transient, mandatory: !mistakes.ignoreReturns };
    const options: Options.Publish = mistakes.replaceOptions ? ours : { ...message.options, ...ours };
    const settle = (error: unknown, resolve: () => void, reject: (error: unknown) => void) => {
      const wasReturned = mistakes.neverForget ? state.returned.has(messageId) : state.returned.delete(messageId);
      if (wasReturned) reject(new PublishRejectedError(`unroutable: nothing bound to '${routingKey}'`));
      else if (!error || mistakes.nackIsSuccess) resolve();
      else if (mistakes.callbackErrorAsIs) reject(error);
      else if (state.closedBy && !mistakes.everyErrorIsNack) reject(state.closedBy);
      else reject(new PublishRejectedError('nacked by the broker'));
    };
    if (mistakes.throwsAtCaller) {
      let done: { resolve: () => void; reject: (error: unknown) => void } | undefined;
      const confirmed = new Promise<void>((resolve, reject) => (done = { resolve, reject }));
      channel.publish(exchange, routingKey, message.content, options, (error: unknown) => done && settle(error, done.resolve, done.reject));
      return confirmed;
    }
    return new Promise<void>((resolve, reject) => {
      try {
        if (mistakes.waitForAllConfirms) {
          channel.publish(exchange, routingKey, message.content, options);
          channel.waitForConfirms().then(
            () => settle(undefined, resolve, reject),
            (error: unknown) => settle(error, resolve, reject),
          );
          return;
        }
        const written = channel.publish(exchange, routingKey, message.content, options, (error: unknown) => settle(error, resolve, reject));
        if (mistakes.resolveOnWrite || (mistakes.confirmOnlyWhenFull && written)) resolve();
      } catch (error) {
        reject(state.closedBy ?? error);
      }
    });
  };
  return publish;
}

/** A valid way to match returns: a 'return' listener per publish, removed when its confirm arrives. */
const listenerPerPublish: Publish = (channel, exchange, routingKey, message) => {
  const state = watched(channel, false);
  const messageId: string = message.options.messageId ?? randomUUID();
  return new Promise<void>((resolve, reject) => {
    let returned = false;
    const onReturn = (bounced: { properties: { messageId?: string } }) => {
      if (bounced.properties.messageId === messageId) returned = true;
    };
    channel.on('return', onReturn);
    try {
      channel.publish(exchange, routingKey, message.content, { ...message.options, messageId, deliveryMode: 2, mandatory: true }, (error: unknown) => {
        channel.off('return', onReturn);
        if (returned) reject(new PublishRejectedError(`NO_ROUTE from ${exchange}`));
        else if (!error) resolve();
        else reject(state.closedBy ?? new PublishRejectedError('the broker nacked it'));
      });
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
      channel.publish(exchange, routingKey, message.content, { ...message.options, messageId, persistent: true, mandatory: true }, (error: unknown) => {
        if (returned) reject(new PublishRejectedError(`unroutable: '${routingKey}'`));
        else if (error) reject(new PublishRejectedError('nacked'));
        else resolve();
      });
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
        channel.publish(exchange, routingKey, message.content, { ...message.options, persistent: true, mandatory: true }, (error: unknown) => {
          if (watched.waiting > 0) {
            watched.waiting--;
            reject(new PublishRejectedError(`unroutable: nothing bound to '${routingKey}'`));
          } else if (error) reject(new PublishRejectedError('nacked by the broker'));
          else resolve();
        });
      } catch (error) {
        reject(error);
      }
    });
  };
}

/** A variant whose only mistakes are in publishConfirmed. */
const publishing = (name: string, breaks: string[], mistakes: Mistakes) => ({ name, breaks, layer: { ...reference, publishConfirmed: publishConfirmedWith(mistakes) } });

export const mutants = defineMutants('durability', [
  publishing('messages published transient (no persistent: true)', ['04.persistent', '04.survives-restart'], { transient: true }),
  publishing("the caller's options replaced by { messageId, persistent, mandatory }: content type, headers and priority lost", ['04.persistent'], { replaceOptions: true }),
  {
    name: 'queues declared with durable: false',
    breaks: ['04.durable-topology', '04.survives-restart'],
    layer: { ...reference, queueOptions: (spec, queueType) => ({ ...reference.queueOptions(spec, queueType), durable: false }) },
  },
  {
    name: 'exchanges declared with durable: false',
    breaks: ['04.durable-topology', '04.survives-restart'],
    layer: { ...reference, exchangeOptions: (spec) => ({ ...reference.exchangeOptions(spec), durable: false }) },
  },
  {
    name: 'exchanges declared durable but auto-delete',
    breaks: ['04.durable-topology'],
    layer: { ...reference, exchangeOptions: (spec) => ({ ...reference.exchangeOptions(spec), autoDelete: true }) },
  },
  {
    name: 'the alternate exchange left out of the exchange arguments',
    breaks: ['04.durable-topology', '04.survives-restart'],
    layer: { ...reference, exchangeOptions: () => ({ durable: true, autoDelete: false }) },
  },
  {
    name: 'quorum for every queue when QUEUE_TYPE=quorum (priority queues and those not replicated too)',
    breaks: ['04.quorum'],
    layer: { ...reference, queueOptions: (_spec, queueType) => ({ durable: true, arguments: { 'x-queue-type': queueType } }) },
  },
  {
    name: 'quorum whenever QUEUE_TYPE=quorum and the queue has no priority, replicate ignored',
    breaks: ['04.quorum'],
    layer: { ...reference, queueOptions: (spec, queueType) => ({ durable: true, arguments: { 'x-queue-type': queueType === 'quorum' && !spec.maxPriority ? 'quorum' : 'classic' } }) },
  },
  {
    name: 'quorum for every replicated queue when QUEUE_TYPE=quorum, priority queues too',
    breaks: ['04.quorum'],
    layer: { ...reference, queueOptions: (spec, queueType) => ({ durable: true, arguments: { 'x-queue-type': queueType === 'quorum' && spec.replicate ? 'quorum' : 'classic' } }) },
  },
  publishing('resolves as soon as channel.publish() returns, without waiting for the confirm', ['04.confirmed', '04.nack', '04.unroutable', '04.channel-closed'], { resolveOnWrite: true }),
  publishing('waits for the confirm only when publish() returned false', ['04.confirmed', '04.nack', '04.unroutable'], { confirmOnlyWhenFull: true }),
  publishing("no mandatory flag, no 'return' listener: an unroutable message counts as sent", ['04.unroutable'], { ignoreReturns: true }),
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
  publishing('returned message ids remembered forever: the same message published again still counts as returned', ['04.unroutable'], { neverForget: true }),
  publishing('channel.waitForConfirms() after each publish: one nack rejects every publish in flight', ['04.nack'], { waitForAllConfirms: true }),
  publishing('a nack treated as success', ['04.nack'], { nackIsSuccess: true }),
  publishing("the confirm callback's error passed on as it is (a nack is no PublishRejectedError, a closed channel has no reason)", ['04.nack', '04.channel-closed'], { callbackErrorAsIs: true }),
  publishing('every error in the confirm callback called a nack, a closed channel too', ['04.channel-closed'], { everyErrorIsNack: true }),
  publishing('channel.publish called outside the promise: a closed channel throws at the caller', ['04.channel-closed'], { throwsAtCaller: true }),
]);

export const alternatives = defineAlternatives('durability', [
  {
    name: "the starter's shape: a Set of returned ids per channel, no backpressure handling",
    layer: { ...reference, publishConfirmed: publishConfirmedWith({}) },
  },
  {
    name: "amqplib's alternateExchange option, classic queues by default (no x-queue-type), deliveryMode 2, a 'return' listener per publish removed at its confirm",
    layer: {
      exchangeOptions: (spec) => ({ durable: true, autoDelete: false, ...(spec.alternateExchange ? { alternateExchange: spec.alternateExchange } : {}) }),
      queueOptions: (spec, queueType) => (queueType === 'quorum' && spec.replicate && spec.maxPriority === undefined ? { durable: true, arguments: { 'x-queue-type': 'quorum' } } : { durable: true }),
      publishConfirmed: listenerPerPublish,
    },
  },
]);
