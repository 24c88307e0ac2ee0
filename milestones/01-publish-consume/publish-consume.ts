// Milestone 1: the codec. Every service sends and receives events through these two functions.
// Read README.md in this folder first. Run `npm run milestone -- 1` to watch it work,
// `npm run grade -- 1` to check it.
import { MalformedMessageError, type MessageCodec } from '../../shared/layers/01-publish-consume.ts';
import { type DomainEvent, DomainEventSchema, isEventType } from '../../shared/messages/events.ts';
import { todo } from '../../shared/workshop/exercise.ts';

export const codec: MessageCodec = {
  encode(event: DomainEvent) {
    // 🐨 Return { content, options }:
    //    content: the whole event as JSON, in a Buffer.
    //    options: contentType 'application/json', messageId, correlationId (the order id), type,
    //    timestamp (Unix seconds: Math.floor(Date.parse(event.occurredAt) / 1000)), appId (the
    //    source service) and headers: { 'x-schema-version': event.schemaVersion }.
    return todo(import.meta.url, 'encode');
  },

  decode({ content, properties }) {
    // 🐨 Turn a delivery back into a DomainEvent, or throw new MalformedMessageError(reason):
    //    1. contentType, when set, must be 'application/json';
    //    2. the body must parse as JSON (say "not valid JSON" in the reason);
    //    3. body.type must be a known event type: isEventType(...) (name the type in the reason);
    //    4. DomainEventSchema.safeParse(body) must succeed (name the failing field's path);
    //    5. properties.type, when set, must equal the body's type.
    // 💰 A reason is for the person reading the dead-letter queue: make it say what is wrong.
    void [content, properties, MalformedMessageError, DomainEventSchema, isEventType];
    return todo(import.meta.url, 'decode');
  },
};
