// Milestone 1: the codec. Every service sends and receives events through these two functions.
// Read README.md in this folder first. Run `npm run milestone -- 1` to watch it work,
// `npm run grade -- 1` to check it, `npm run hint -- 1` when you are stuck.
import { MalformedMessageError, type MessageCodec } from '../../shared/layers/01-publish-consume.ts';
import { type DomainEvent, DomainEventSchema, isEventType } from '../../shared/messages/events.ts';
import { todo } from '../../shared/workshop/exercise.ts';

export const codec: MessageCodec = {
  encode(event: DomainEvent) {
    // 🐨 Return { content, options }: the event as a message body, and the properties a consumer
    //    or a tool reads without opening it (meets clauses 1, 2 and 3).
    return todo(import.meta.url, 'encode');
  },

  decode({ content, properties }) {
    // 🐨 Turn a delivery back into the event it carries (meets clauses 1 and 4).
    // 🐨 Refuse whatever cannot be trusted by throwing MalformedMessageError(reason), with a reason
    //    for the person reading the dead-letter queue (meets clauses 5, 6, 7, 8 and 9).
    void [content, properties, MalformedMessageError, DomainEventSchema, isEventType];
    return todo(import.meta.url, 'decode');
  },
};
