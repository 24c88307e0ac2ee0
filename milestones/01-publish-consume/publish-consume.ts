// Milestone 1: the codec. Every service sends and receives events through these two functions.
// Read README.md in this folder first. Run `npm run milestone -- 1` to watch it work,
// `npm run grade -- 1` to check it, `npm run hint -- 1` when you are stuck.
import { MalformedMessageError, type MessageCodec } from '../../shared/layers/01-publish-consume.ts';
import { type DomainEvent, DomainEventSchema, isEventType } from '../../shared/messages/events.ts';
import { todo } from '../../shared/workshop/exercise.ts';

export const codec: MessageCodec = {
  encode(event: DomainEvent) {
    // 🐨 Return { content, options }: the whole event as the body, and the properties a consumer
    //    or a tool reads without opening it (README § A message is bytes plus properties).
    //    Persistence and priority are not yours to set: later milestones decide them.
    return todo(import.meta.url, 'encode');
  },

  decode({ content, properties }) {
    // 🐨 Turn a delivery back into the event it carries, with the schema's defaults filled in.
    // 🐨 Refuse whatever cannot be trusted by throwing MalformedMessageError(reason): each rule of
    //    README § Trust nothing that arrives. The reason is for the person reading the
    //    dead-letter queue: say what is wrong and where.
    void [content, properties, MalformedMessageError, DomainEventSchema, isEventType];
    return todo(import.meta.url, 'decode');
  },
};
