// Layer 1: a DomainEvent becomes a JSON body plus AMQP properties, and a delivery becomes a
// validated DomainEvent again, or a MalformedMessageError that says exactly what is wrong.
import { MalformedMessageError, type MessageCodec } from '../../shared/layers/01-publish-consume.ts';
import { describeError } from '../../shared/log.ts';
import { type DomainEvent, DomainEventSchema, isEventType } from '../../shared/messages/events.ts';

const JSON_CONTENT_TYPE = 'application/json';

export const codec: MessageCodec = {
  encode(event) {
    return {
      content: Buffer.from(JSON.stringify(event)),
      // The properties repeat what a broker-side tool (management UI, tracing, shovels) can read
      // without parsing the body. Persistence and priority are decided by layers 4 and 9.
      options: {
        contentType: JSON_CONTENT_TYPE,
        messageId: event.messageId,
        correlationId: event.orderId,
        type: event.type,
        timestamp: Math.floor(Date.parse(event.occurredAt) / 1000), // AMQP timestamps are Unix seconds
        appId: event.source,
        headers: { 'x-schema-version': event.schemaVersion },
      },
    };
  },

  decode({ content, properties }) {
    const { contentType, type } = properties;
    if (contentType !== undefined && contentType !== JSON_CONTENT_TYPE) {
      throw new MalformedMessageError(`content type is ${contentType}, expected ${JSON_CONTENT_TYPE}`);
    }

    let body: unknown;
    try {
      body = JSON.parse(content.toString('utf8'));
    } catch (error) {
      throw new MalformedMessageError(`body is not valid JSON (${describeError(error)})`);
    }

    // Check the type first: "unknown event type" is a clearer reason than a schema's union error.
    const bodyType = typeof body === 'object' && body !== null ? (body as { type?: unknown }).type : undefined;
    if (!isEventType(bodyType)) throw new MalformedMessageError(`unknown event type ${JSON.stringify(bodyType)}`);

    const parsed = DomainEventSchema.safeParse(body);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(body)'}: ${issue.message}`);
      throw new MalformedMessageError(`${bodyType} does not match its schema: ${problems.join('; ')}`);
    }

    // A type property that disagrees with the body means a bug in the publisher: trust neither.
    if (type !== undefined && type !== bodyType) {
      throw new MalformedMessageError(`type property ${type} does not match the body's type ${bodyType}`);
    }
    return parsed.data as DomainEvent;
  },
};
