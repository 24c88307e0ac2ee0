// publishConfirmed as the starter leads a learner to write it (a Set of returned ids per channel,
// no backpressure), in named steps, so a known-wrong publish is this one with one step done the
// wrong way: `publishConfirmedWith({ options })`. With no edit it is a known-valid alternative.
import { randomUUID } from 'node:crypto';
import type { ConfirmChannel, Options } from 'amqplib';
import { type DurabilityLayer, PublishRejectedError } from '../../../../shared/layers/04-durability.ts';

export type Publish = DurabilityLayer['publishConfirmed'];

/** What a learner keeps per channel: the ids the broker returned, and why it closed the channel. */
export interface Watched {
  returned: Set<string>;
  closedBy?: Error;
}

/** One publish on its way: where it goes, what the steps made of it, and how its confirm settles it. */
export interface Publication {
  channel: ConfirmChannel;
  exchange: string;
  routingKey: string;
  content: Buffer;
  options: Options.Publish;
  watched: Watched;
  /** The confirm callback's work: rejects a returned message or a failure, resolves the rest. */
  settle(error: unknown, resolve: () => void, reject: (error: unknown) => void): void;
}

export interface PublishSteps {
  /** The channel's listeners, added once per channel: returned ids and the broker's reason to close it. */
  watch(channel: ConfirmChannel): Watched;
  /** The caller's options, with the message id, persistent and mandatory. */
  options(options: Options.Publish, messageId: string): Options.Publish;
  /** Whether the broker returned this message (so it was unroutable); forgets it. */
  returned(watched: Watched, messageId: string): boolean;
  /** What a confirm callback's error rejects the publish with; undefined: it was confirmed. */
  rejection(watched: Watched, error: unknown): unknown;
  /** Publishes with a confirm callback, inside the promise it returns: it settles at the confirm. */
  send(publication: Publication): Promise<void>;
}

/** A watch of its own channels; with `returns: false` it does not listen for returned messages. */
export function watcher({ returns }: { returns: boolean }): PublishSteps['watch'] {
  const channels = new WeakMap<ConfirmChannel, Watched>();
  return (channel) => {
    let state = channels.get(channel);
    if (!state) {
      const fresh: Watched = { returned: new Set() };
      if (returns) channel.on('return', (bounced) => fresh.returned.add(bounced.properties.messageId));
      channel.on('error', (error) => (fresh.closedBy = error));
      channels.set(channel, (state = fresh));
    }
    return state;
  };
}

export const learnerSteps: PublishSteps = {
  watch: watcher({ returns: true }),
  options: (options, messageId) => ({ ...options, messageId, persistent: true, mandatory: true }),
  returned: (watched, messageId) => watched.returned.delete(messageId),
  rejection: (watched, error) => (error ? (watched.closedBy ?? new PublishRejectedError('nacked by the broker')) : undefined),
  send: ({ channel, exchange, routingKey, content, options, watched, settle }) =>
    new Promise<void>((resolve, reject) => {
      try {
        channel.publish(exchange, routingKey, content, options, (error: unknown) => settle(error, resolve, reject));
      } catch (error) {
        reject(watched.closedBy ?? error);
      }
    }),
};

/** The learner's publishConfirmed with `edit`'s steps in place of its own. */
export function publishConfirmedWith(edit: Partial<PublishSteps>): Publish {
  const steps: PublishSteps = { ...learnerSteps, ...edit };
  return (channel, exchange, routingKey, message) => {
    const watched = steps.watch(channel);
    const messageId: string = message.options.messageId ?? randomUUID();
    const settle: Publication['settle'] = (error, resolve, reject) => {
      if (steps.returned(watched, messageId)) return reject(new PublishRejectedError(`unroutable: nothing bound to '${routingKey}'`));
      const rejection = steps.rejection(watched, error);
      if (rejection === undefined) resolve();
      else reject(rejection);
    };
    return steps.send({
      channel,
      exchange,
      routingKey,
      content: message.content,
      options: steps.options(message.options, messageId),
      watched,
      settle,
    });
  };
}
