// Messages no consumer can use, as a buggy or hostile publisher sends them: bodies that are not
// JSON (cut short, binary, UTF-16, compressed, nested too deep), JSON that is not an event, a
// missing or unknown type (prototype keys too), each envelope and payload field deleted or of the
// wrong type, a schemaVersion from elsewhere, a type property that contradicts the body, a wrong
// content type, huge payloads, and valid events sent to a queue with no handler for them. Each
// says why the consumer must park it; the AMQP properties around it vary independently (no
// message id, no content type, odd headers, priorities).
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import type { Options } from 'amqplib';
import { EVENT_TYPES, SCHEMA_VERSION, type EventType } from '../../../shared/messages/events.ts';
// A valid payload of every type: each mutation starts from a valid event and breaks one thing.
import { SAMPLE_PAYLOADS } from '../../../shared/messages/sample-events.ts';

export type Envelope = Record<string, unknown> & { type: string; payload: Record<string, unknown> };

/** A valid event of `type` as plain JSON data, for an order nobody placed. */
export function sampleEvent(type: EventType, orderId: string): Envelope {
  return {
    messageId: `fuzz-${orderId}`,
    orderId,
    type,
    occurredAt: '2026-12-01T12:00:00.000Z',
    schemaVersion: SCHEMA_VERSION,
    source: 'order',
    express: false,
    payload: structuredClone(SAMPLE_PAYLOADS[type]) as Record<string, unknown>,
  };
}

export interface MalformedBody {
  what: string;
  content: Buffer;
  /** The reason the consumer must park it with. */
  reason: RegExp;
  /** Properties this mutation needs (a content type, a type property). */
  properties?: Options.Publish;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const NOT_JSON = /^body is not valid JSON/;
const UNKNOWN_TYPE = /^unknown event type /;
const schemaOf = (type: string) => new RegExp(`^${escape(type)} does not match its schema`);
const json = (value: unknown) => Buffer.from(JSON.stringify(value));

/** Any JSON value not of the same JSON type as `sample`, null included. */
function wrongTypeFor(sample: unknown): fc.Arbitrary<unknown> {
  const kinds: [string, fc.Arbitrary<unknown>][] = [
    ['string', fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('', 'NaN', '1', 'true', 'null'))],
    ['number', fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }))],
    ['boolean', fc.boolean()],
    ['array', fc.array(fc.integer(), { maxLength: 3 })],
    ['object', fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 })],
  ];
  const kindOf = (value: unknown) => (Array.isArray(value) ? 'array' : typeof value);
  return fc.oneof(fc.constant(null), ...kinds.filter(([kind]) => kind !== kindOf(sample)).map(([, arbitrary]) => arbitrary));
}

/** Every path to a leaf or object in `value` (payload.items.0.sku, payload.items, ...). */
function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object') return [prefix];
  const entries = Array.isArray(value) ? value.map((item, index) => [index, item] as const) : Object.entries(value);
  return [prefix, ...entries.flatMap(([key, item]) => pathsOf(item, [...prefix, key]))];
}

function setAt(root: Envelope, path: (string | number)[], value: unknown): Envelope {
  const copy = structuredClone(root);
  let node: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path.at(-1) as string | number;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}

function getAt(root: Envelope, path: (string | number)[]): unknown {
  return path.reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], root);
}

/**
 * Paths whose value may not be deleted or change JSON type. `express` has a default (deleting it
 * is fine); an empty path is the whole body.
 */
function requiredPaths(event: Envelope): (string | number)[][] {
  return pathsOf(event).filter((path) => path.length > 0 && !(path.length === 1 && path[0] === 'express'));
}

/** Values in range for their JSON type but refused by the schema, by path. */
function outOfRange(event: Envelope): { path: (string | number)[]; values: unknown[] }[] {
  const found: { path: (string | number)[]; values: unknown[] }[] = [
    { path: ['messageId'], values: [''] },
    { path: ['orderId'], values: ['', 'x'.repeat(101)] },
    { path: ['occurredAt'], values: ['yesterday', '2026-13-01T00:00:00Z', '2026-12-01', '', '1733054400'] },
    { path: ['schemaVersion'], values: [0, 2, SCHEMA_VERSION + 1, -1, 1.5, 99] },
    { path: ['source'], values: ['hacker', 'Order', 'order ', '', 'dashboard'] },
  ];
  for (const path of pathsOf(event)) {
    const key = path.at(-1);
    if (key === 'quantity') found.push({ path, values: [0, -1, 1.5, 1001, 1e21] });
    if (key === 'amount') found.push({ path, values: [-1, 0.5, -0.01, Number.MAX_SAFE_INTEGER + 2] });
    if (key === 'requested' || key === 'available') found.push({ path, values: [1.5, 0.1] });
    if (key === 'sku' && path.includes('items')) found.push({ path, values: ['', 'x'.repeat(101)] });
    if (key === 'confirmedBy') found.push({ path, values: ['robot', 'Customer', ''] });
  }
  if (event.type === 'order.created') found.push({ path: ['payload', 'items'], values: [[]] }, { path: ['payload', 'user'], values: [''] });
  return found;
}

/** Ways to break a valid event of `type` (published with routing key `type`). */
export function malformedBodies(type: EventType, otherTypes: readonly EventType[]): fc.Arbitrary<MalformedBody> {
  const event = sampleEvent(type, 'fuzz-order');
  const text = JSON.stringify(event);
  const schema = schemaOf(type);
  return fc.oneof(
    // Not JSON at all.
    fc
      .integer({ min: 0, max: text.length - 1 })
      .map((cut) => ({ what: 'cut short', content: Buffer.from(text.slice(0, cut)), reason: NOT_JSON })),
    fc
      .uint8Array({ minLength: 0, maxLength: 4096 })
      .map((bytes) => ({ what: 'binary garbage', content: Buffer.from([0xff, ...bytes]), reason: NOT_JSON })),
    fc
      .constantFrom<[string, Buffer]>(
        ['UTF-16', Buffer.from(text, 'utf16le')],
        ['gzip', gzipSync(text)],
        ['a BOM before it', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)])],
        ['NaN for a number', Buffer.from(text.replace('"schemaVersion":1', '"schemaVersion":NaN'))],
        ['single quotes', Buffer.from(text.replaceAll('"', "'"))],
        ['a trailing comma', Buffer.from(text.replace(/\}$/, ',}'))],
        ['empty', Buffer.alloc(0)],
      )
      .map(([what, content]) => ({ what, content, reason: NOT_JSON })),
    // Deep nesting: JSON.parse copes, the schema refuses it without recursing.
    fc.integer({ min: 1000, max: 100_000 }).map((depth) => ({
      what: `payload nested ${depth} deep`,
      content: Buffer.from(text.replace(/"payload":\{.*\}\}$/, `"payload":${'['.repeat(depth)}${']'.repeat(depth)}}`)),
      reason: schema,
    })),
    // JSON, but not an event.
    fc
      .jsonValue({ maxDepth: 2 })
      .filter((value) => typeof value !== 'object' || value === null || Array.isArray(value))
      .map((value) => ({ what: 'JSON that is not an object', content: json(value), reason: UNKNOWN_TYPE })),
    fc
      .oneof(
        fc.constant(undefined),
        fc.constantFrom<unknown>(
          null,
          42,
          '',
          'order',
          'ORDER.CREATED',
          `${type} `,
          ` ${type}`,
          `${type}.v2`,
          'refund.issued',
          '__proto__',
          'constructor',
          'toString',
          'hasOwnProperty',
          'valueOf',
          [type],
          { type },
        ),
        fc.string({ maxLength: 30 }).filter((candidate) => !(EVENT_TYPES as readonly string[]).includes(candidate)),
      )
      .map((bodyType) => ({
        what: `type ${JSON.stringify(bodyType) ?? 'missing'}`,
        content: json(setAt(event, ['type'], bodyType)),
        reason: UNKNOWN_TYPE,
      })),
    // The right type, a broken field: deleted, of the wrong JSON type, or out of range.
    fc.constantFrom(...requiredPaths(event)).chain((path) =>
      fc.oneof(fc.constant(undefined), wrongTypeFor(getAt(event, path))).map((value) => ({
        what: `${path.join('.')} ${value === undefined ? 'deleted' : `set to ${JSON.stringify(value)}`}`,
        content: json(setAt(event, path, value)),
        reason: path[0] === 'type' ? UNKNOWN_TYPE : schema,
      })),
    ),
    fc.constantFrom(...outOfRange(event)).chain(({ path, values }) =>
      fc.constantFrom(...values).map((value) => ({
        what: `${path.join('.')} set to ${JSON.stringify(value)}`,
        content: json(setAt(event, path, value)),
        reason: schema,
      })),
    ),
    fc.constant({ what: 'express as a string', content: json({ ...event, express: 'yes' }), reason: schema }),
    // A huge payload (within reason: up to 1 MB) where a short value belongs.
    fc
      .oneof({ weight: 4, arbitrary: fc.integer({ min: 16 * 1024, max: 256 * 1024 }) }, { weight: 1, arbitrary: fc.constant(1024 * 1024) })
      .map((size) => ({
        what: `a ${size}-byte messageId of the wrong type`,
        content: json({ ...event, messageId: Array.from({ length: Math.floor(size / 2) }, () => 0) }),
        reason: schema,
      })),
    // A valid body with the wrong properties.
    fc
      .constantFrom(
        'text/plain',
        'application/xml',
        'application/octet-stream',
        'application/x-protobuf',
        'application/json; charset=utf-16',
        'APPLICATION/JSON ',
        '',
      )
      .map((contentType) => ({
        what: `content type ${JSON.stringify(contentType)}`,
        content: json(event),
        reason: /^content type is /,
        properties: { contentType },
      })),
    fc.constantFrom(...otherTypes).map((propertyType) => ({
      what: `type property ${propertyType} on a ${type} body`,
      content: json(event),
      reason: new RegExp(`^type property ${escape(propertyType)} does not match the body's type ${escape(type)}`),
      properties: { type: propertyType },
    })),
  );
}

/** Properties a publisher may or may not set: none of them makes a malformed message acceptable. */
export const publishProperties: fc.Arbitrary<Options.Publish> = fc.record(
  {
    messageId: fc.oneof(fc.uuid(), fc.constant('')),
    contentType: fc.constant('application/json'),
    appId: fc.constantFrom('order', 'inventory', 'someone-else'),
    correlationId: fc.string({ maxLength: 20 }),
    timestamp: fc.integer({ min: 0, max: 2 ** 31 }),
    priority: fc.integer({ min: 0, max: 9 }),
    persistent: fc.boolean(),
    headers: fc.record(
      {
        'x-schema-version': fc.oneof(fc.constant(SCHEMA_VERSION), fc.integer(), fc.string({ maxLength: 5 })),
        // What the broker writes when it dead-letters, forged and malformed: read, never trusted.
        'x-death': fc.oneof(
          fc.constant('rejected'),
          fc.integer(),
          fc.constant([null]),
          fc.constant([{ queue: 42 }]),
          fc.constant({ count: 3 }),
        ),
        __proto__: fc.string({ maxLength: 5 }),
        'x-anything': fc.string({ maxLength: 50 }),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: [] },
);
