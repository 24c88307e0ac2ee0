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
   * JSON body plus properties: contentType application/json, messageId, correlationId (the order id),
   * type (the event type), timestamp (Unix seconds), appId (the source service) and the schema
   * version in the `x-schema-version` header.
   */
  encode(event: DomainEvent): OutgoingMessage;
  /** Parses and validates a delivery. Throws MalformedMessageError (not JSON, fails the schema, unknown type). */
  decode(message: Pick<Message, 'content' | 'properties'>): DomainEvent;
}
