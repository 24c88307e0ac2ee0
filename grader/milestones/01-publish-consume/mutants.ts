// Known-wrong codecs for milestone 1, written as a learner gets them wrong, and known-valid ones
// that differ from the reference and must pass.
import { MalformedMessageError, type MessageCodec } from '../../../shared/layers/01-publish-consume.ts';
import { type DomainEvent, DomainEventSchema, EventTypeSchema, eventPayloads, isEventType } from '../../../shared/messages/events.ts';
import { codec as reference } from '../../../solutions/layers/01-publish-consume.ts';
import { defineAlternatives, defineMutants } from '../../mutant.ts';

type Options = ReturnType<MessageCodec['encode']>['options'];

/** The reference encode with some options changed. */
const encoding = (change: (options: Options, event: DomainEvent) => Options): MessageCodec => ({
  ...reference,
  encode: (event) => {
    const encoded = reference.encode(event);
    return { content: encoded.content, options: change({ ...encoded.options }, event) };
  },
});

/** A decode that parses the body its own way, then hands the reference a clean copy to validate. */
const parsingWith = (parse: (content: Buffer) => unknown): MessageCodec => ({
  ...reference,
  decode: (message) => reference.decode({ ...message, content: Buffer.from(JSON.stringify(parse(message.content))) }),
});

/** JSON.parse as the reference refuses it: a MalformedMessageError saying it is not JSON. */
function parseOrRefuse(content: Buffer): unknown {
  try {
    return JSON.parse(content.toString());
  } catch {
    throw new MalformedMessageError('body is not valid JSON');
  }
}

/** Reads body.type without first making sure the body is an object. */
function typeOf(body: unknown): unknown {
  return (body as { type?: unknown }).type;
}

export const mutants = defineMutants('codec', [
  {
    name: 'timestamp in milliseconds (Date.parse without dividing)',
    breaks: ['01.properties'],
    layer: encoding((options, event) => ({ ...options, timestamp: Date.parse(event.occurredAt) })),
  },
  {
    name: 'timestamp of the moment of encoding instead of occurredAt',
    breaks: ['01.properties'],
    layer: encoding((options) => ({ ...options, timestamp: Math.floor(Date.now() / 1000) })),
  },
  {
    name: 'correlation id set to the message id instead of the order id',
    breaks: ['01.properties'],
    layer: encoding((options, event) => ({ ...options, correlationId: event.messageId })),
  },
  {
    name: 'app id hard-coded to the order service',
    breaks: ['01.properties'],
    layer: encoding((options) => ({ ...options, appId: 'order' })),
  },
  {
    name: 'schema version as a string header',
    breaks: ['01.properties'],
    layer: encoding((options, event) => ({ ...options, headers: { 'x-schema-version': String(event.schemaVersion) } })),
  },
  {
    name: 'persistent: true "to be safe"',
    breaks: ['01.properties'],
    layer: encoding((options) => ({ ...options, persistent: true })),
  },
  {
    name: 'decode returns the payload instead of the whole event',
    breaks: ['01.round-trip'],
    layer: {
      ...reference,
      decode: (message) => ({ ...(JSON.parse(message.content.toString()) as DomainEvent).payload }) as unknown as DomainEvent,
    },
  },
  {
    name: 'decode reads the body as latin1',
    breaks: ['01.round-trip'],
    layer: parsingWith((content) => JSON.parse(content.toString('latin1'))),
  },
  {
    name: 'decode validates, then returns the raw body (no schema defaults)',
    breaks: ['01.round-trip'],
    layer: {
      ...reference,
      decode: (message) => {
        reference.decode(message);
        return JSON.parse(message.content.toString()) as DomainEvent;
      },
    },
  },
  {
    name: 'decode requires a content type (refuses a message without one)',
    breaks: ['01.round-trip'],
    layer: {
      ...reference,
      decode: (message) => {
        if (message.properties.contentType !== 'application/json')
          throw new MalformedMessageError(`content type is ${message.properties.contentType}`);
        return reference.decode(message);
      },
    },
  },
  {
    name: 'decode lets JSON.parse throw a SyntaxError',
    breaks: ['01.not-json', '01.in-the-system'],
    layer: parsingWith((content) => JSON.parse(content.toString())),
  },
  {
    name: 'decode throws a plain Error for a body that is not JSON',
    breaks: ['01.not-json', '01.in-the-system'],
    layer: parsingWith((content) => {
      try {
        return JSON.parse(content.toString());
      } catch {
        throw new Error('body is not valid JSON');
      }
    }),
  },
  {
    name: 'decode returns undefined for a body that is not JSON',
    breaks: ['01.not-json', '01.in-the-system'],
    layer: {
      ...reference,
      decode: (message) => {
        try {
          JSON.parse(message.content.toString());
        } catch {
          return undefined as unknown as DomainEvent;
        }
        return reference.decode(message);
      },
    },
  },
  {
    name: 'decode trusts the body without validating it',
    breaks: ['01.schema', '01.unknown-type'],
    layer: {
      ...reference,
      decode: (message) => {
        return parseOrRefuse(message.content) as DomainEvent;
      },
    },
  },
  {
    name: "the schema reason gives zod's messages without their paths",
    breaks: ['01.schema'],
    layer: {
      ...reference,
      decode: (message) => {
        const body = JSON.parse(message.content.toString()) as unknown;
        if (!isEventType(typeOf(body))) throw new MalformedMessageError(`unknown event type ${String(typeOf(body))}`);
        const parsed = DomainEventSchema.safeParse(body);
        if (!parsed.success) throw new MalformedMessageError(parsed.error.issues.map((issue) => issue.message).join('; '));
        return reference.decode(message);
      },
    },
  },
  {
    name: 'validates the payload only, not the envelope (orderId, occurredAt...)',
    breaks: ['01.schema'],
    layer: {
      ...reference,
      decode: (message) => {
        const body = JSON.parse(message.content.toString()) as DomainEvent;
        const type: unknown = body?.type;
        if (!isEventType(type)) throw new MalformedMessageError(`unknown event type ${String(type)}`);
        const parsed = eventPayloads[body.type].safeParse(body.payload);
        if (!parsed.success)
          throw new MalformedMessageError(
            parsed.error.issues.map((issue) => `payload.${issue.path.join('.')}: ${issue.message}`).join('; '),
          );
        return { ...body, express: body.express ?? false };
      },
    },
  },
  {
    name: 'no type check before the schema: the reason is a union error that never names the type',
    breaks: ['01.unknown-type'],
    layer: {
      ...reference,
      decode: (message) => {
        const body = parseOrRefuse(message.content);
        const parsed = DomainEventSchema.safeParse(body);
        if (!parsed.success)
          throw new MalformedMessageError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
        return reference.decode(message);
      },
    },
  },
  {
    name: 'reads body.type without checking the body is an object (null crashes with a TypeError)',
    breaks: ['01.unknown-type'],
    layer: {
      ...reference,
      decode: (message) => {
        const body = parseOrRefuse(message.content);
        const type = (body as { type: unknown }).type; // TypeError on null
        if (!isEventType(type)) throw new MalformedMessageError(`unknown event type ${String(type)}`);
        return reference.decode(message);
      },
    },
  },
  {
    name: 'decode ignores the content type',
    breaks: ['01.properties-checked'],
    layer: {
      ...reference,
      decode: (message) => reference.decode({ ...message, properties: { ...message.properties, contentType: undefined } }),
    },
  },
  {
    name: 'decode ignores the type property',
    breaks: ['01.properties-checked'],
    layer: { ...reference, decode: (message) => reference.decode({ ...message, properties: { ...message.properties, type: undefined } }) },
  },
]);

/** Another correct codec: other helpers, other wording, the property checks first, the path in brackets. */
const checkingPropertiesFirst: MessageCodec = {
  encode(event) {
    const headers = { 'x-schema-version': event.schemaVersion };
    return {
      content: Buffer.from(JSON.stringify(event), 'utf8'),
      options: {
        headers,
        appId: event.source,
        timestamp: Math.trunc(new Date(event.occurredAt).getTime() / 1000),
        type: event.type,
        correlationId: event.orderId,
        messageId: event.messageId,
        contentType: 'application/json',
      },
    };
  },
  decode({ content, properties }) {
    if (properties.contentType && properties.contentType !== 'application/json') {
      throw new MalformedMessageError(`unsupported content-type "${properties.contentType}"`);
    }
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(new TextDecoder().decode(content));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new MalformedMessageError('the body is JSON but not an event object');
      body = parsed as Record<string, unknown>;
    } catch (error) {
      if (error instanceof MalformedMessageError) throw error;
      throw new MalformedMessageError('the body does not parse as JSON');
    }
    if (properties.type && properties.type !== body.type) {
      throw new MalformedMessageError(`message type ${String(properties.type)} but the body says ${String(body.type)}`);
    }
    const type = EventTypeSchema.safeParse(body.type);
    if (!type.success) throw new MalformedMessageError(`event type ${JSON.stringify(body.type)} is not one we know`);
    const result = DomainEventSchema.safeParse(body);
    if (!result.success) {
      const [first] = result.error.issues;
      const where = (first?.path ?? [])
        .map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`))
        .join('')
        .replace(/^\./, '');
      throw new MalformedMessageError(`invalid ${where}: ${first?.message}`);
    }
    return result.data as DomainEvent;
  },
};

export const alternatives = defineAlternatives('codec', [
  { name: 'properties checked first, other helpers and wording, the path in brackets', layer: checkingPropertiesFirst },
]);
