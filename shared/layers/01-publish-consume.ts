// Layer 1 (milestone 01): turning events into AMQP messages and back.
import type { Message, Options } from 'amqplib';
import type { DomainEvent } from '../messages/events.ts';

/** What goes on the wire: the body and the AMQP properties to publish it with. */
export interface OutgoingMessage {
  content: Buffer;
  options: Options.Publish;
}

/** Thrown by decode when a delivery cannot become a DomainEvent. `reason` says why, for the dead-letter queue. */
export class MalformedMessageError extends Error {
  constructor(readonly reason: string) {
    super(`malformed message: ${reason}`);
    this.name = 'MalformedMessageError';
  }
}

export interface MessageCodec {
  /**
   * The whole event as a UTF-8 JSON body, plus properties: contentType application/json, messageId,
   * correlationId (the order id), type (the event type), timestamp (occurredAt in Unix seconds),
   * appId (the source service) and the schema version (a number) in the `x-schema-version` header.
   * No delivery mode and no priority: layers 4 and 9 add those.
   */
  encode(event: DomainEvent): OutgoingMessage;
  /**
   * Parses and validates a delivery and returns the schema's data (defaults filled). Throws
   * MalformedMessageError, and nothing else, for: a contentType that is set and not
   * application/json; a body that is not JSON; a body that is not an event object or whose type is
   * unknown (naming it); a schema failure (naming the field's path); a type property that is set
   * and differs from the body's type. The full contract: milestones/01-publish-consume/README.md.
   */
  decode(message: Pick<Message, 'content' | 'properties'>): DomainEvent;
}
