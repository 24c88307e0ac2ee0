// Known-wrong durability layers for milestone 4. Every one of them runs the broker-restart check too
// (the grader runs every check for each), so each costs a throwaway node: keep the list short.
import { randomUUID } from 'node:crypto';
import type { ConfirmChannel } from 'amqplib';
import { type DurabilityLayer, PublishRejectedError } from '../../shared/layers/04-durability.ts';
import { durability as reference } from '../../solutions/layers/04-durability.ts';
import { defineMutants } from './mutant.ts';

interface Mistakes {
  transient?: boolean;
  /** No mandatory flag and no 'return' listener: an unroutable message is dropped and confirmed. */
  ignoreReturns?: boolean;
  /** Resolves when channel.publish() returns, not when the confirm arrives. */
  resolveOnWrite?: boolean;
  nackIsSuccess?: boolean;
}

const returnedIds = new WeakMap<ConfirmChannel, Set<string>>();

/** publishConfirmed without the reference's backpressure handling, with one or more classic mistakes. */
function publishConfirmedWith(mistakes: Mistakes): DurabilityLayer['publishConfirmed'] {
  return (channel, exchange, routingKey, message) => {
    let returned = returnedIds.get(channel);
    if (!returned) {
      const ids = new Set<string>();
      if (!mistakes.ignoreReturns) channel.on('return', (bounced) => ids.add(bounced.properties.messageId));
      channel.on('error', () => {});
      returnedIds.set(channel, (returned = ids));
    }
    const messageId: string = message.options.messageId ?? randomUUID();
    const options = { ...message.options, messageId, persistent: !mistakes.transient, mandatory: !mistakes.ignoreReturns };
    return new Promise<void>((resolve, reject) => {
      channel.publish(exchange, routingKey, message.content, options, (error: unknown) => {
        const wasReturned = returned.delete(messageId);
        if (mistakes.resolveOnWrite) return;
        if (wasReturned) reject(new PublishRejectedError('unroutable'));
        else if (error && !mistakes.nackIsSuccess) reject(new PublishRejectedError('nacked by the broker'));
        else resolve();
      });
      if (mistakes.resolveOnWrite) resolve();
    });
  };
}

export const mutants = defineMutants('durability', [
  {
    name: 'messages published transient (no persistent: true)',
    breaks: ['04.persistent', '04.survives-restart'],
    layer: { ...reference, publishConfirmed: publishConfirmedWith({ transient: true }) },
  },
  {
    name: 'queues declared with durable: false',
    breaks: ['04.durable-topology', '04.survives-restart'],
    layer: { ...reference, queueOptions: (spec, queueType) => ({ ...reference.queueOptions(spec, queueType), durable: false }) },
  },
  {
    name: 'resolves as soon as channel.publish() returns, without waiting for the confirm',
    breaks: ['04.confirmed', '04.nack', '04.unroutable'],
    layer: { ...reference, publishConfirmed: publishConfirmedWith({ resolveOnWrite: true }) },
  },
  {
    name: "no mandatory flag, no 'return' listener: an unroutable message counts as sent",
    breaks: ['04.unroutable'],
    layer: { ...reference, publishConfirmed: publishConfirmedWith({ ignoreReturns: true }) },
  },
  {
    name: 'a nack treated as success',
    breaks: ['04.nack'],
    layer: { ...reference, publishConfirmed: publishConfirmedWith({ nackIsSuccess: true }) },
  },
  {
    name: 'quorum for every queue when QUEUE_TYPE=quorum (priority and RPC queues too)',
    breaks: ['04.quorum'],
    layer: { ...reference, queueOptions: (_spec, queueType) => ({ durable: true, arguments: { 'x-queue-type': queueType } }) },
  },
]);
