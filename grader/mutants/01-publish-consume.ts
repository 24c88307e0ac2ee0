// Known-wrong codecs for milestone 1.
import { MalformedMessageError } from '../../shared/layers/01-publish-consume.ts';
import type { DomainEvent } from '../../shared/messages/events.ts';
import { codec as reference } from '../../solutions/layers/01-publish-consume.ts';
import { defineMutants } from './mutant.ts';

export const mutants = defineMutants('codec', [
  {
    name: 'timestamp in milliseconds, and no correlation id',
    breaks: ['01.properties'],
    layer: {
      ...reference,
      encode: (event) => {
        const encoded = reference.encode(event);
        return { content: encoded.content, options: { ...encoded.options, timestamp: Date.parse(event.occurredAt), correlationId: undefined } };
      },
    },
  },
  {
    name: 'decode returns the payload instead of the whole event',
    breaks: ['01.round-trip'],
    layer: { ...reference, decode: (message) => ({ ...(JSON.parse(message.content.toString()) as DomainEvent).payload }) as unknown as DomainEvent },
  },
  {
    name: 'decode lets JSON.parse throw a SyntaxError',
    breaks: ['01.not-json', '01.in-the-system'],
    layer: {
      ...reference,
      decode: (message) => {
        const body = JSON.parse(message.content.toString()) as unknown;
        return reference.decode({ ...message, content: Buffer.from(JSON.stringify(body)) });
      },
    },
  },
  {
    name: 'decode trusts the body without validating it',
    breaks: ['01.schema', '01.unknown-type'],
    layer: {
      ...reference,
      decode: (message) => {
        try {
          return JSON.parse(message.content.toString()) as DomainEvent;
        } catch {
          throw new MalformedMessageError('body is not valid JSON');
        }
      },
    },
  },
]);
