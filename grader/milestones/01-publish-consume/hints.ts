// The hints of `npm run hint -- 1`, one level at a time: the concept, then the API to use, then the
// hard part shown on another example. They narrow; they never solve (grader/tests/hint.test.ts).
export const hints: string[] = [
  // The concept.
  'decode asks a series of questions, each one making the next safe to ask: may I read these bytes as JSON at all, ' +
    "are they JSON, is it an object of a kind I know, does it match that kind's schema, do the properties agree with it? " +
    'A "no" anywhere ends it with a MalformedMessageError whose reason names what was wrong and where; an error of any ' +
    'other class looks like a passing failure and gets retried in vain. encode is the easy half: what goes in the properties ' +
    'is a copy of fields the body already has.',
  // The API.
  'Buffer.from(text) and buffer.toString("utf8") go between text and bytes; JSON.parse throws a SyntaxError that you turn ' +
    'into a refusal. isEventType(value) tells a known type; DomainEventSchema.safeParse(body) gives { success: true, data } ' +
    "or { success: false, error } with error.issues, each with a path (an array) and a message. amqplib's publish options " +
    'are camelCase: contentType, messageId, correlationId, type, timestamp, appId, headers. Date.parse gives milliseconds; ' +
    'an AMQP timestamp is whole seconds.',
  // The hard part, on another example.
  [
    'Readings of several kinds, not events: look at the discriminator yourself, before the schema does.',
    'const isObject = typeof body === "object" && body !== null && !Array.isArray(body);  // null, 42, [] are JSON too',
    'const kind = isObject ? (body as { kind?: unknown }).kind : undefined;',
    'if (!isKnownKind(kind)) throw new BadReading(`unknown kind ${JSON.stringify(kind)}`);  // name what you found',
    'const parsed = ReadingSchema.safeParse(body);  // now its issues point at a field, not at the union',
    'if (!parsed.success) throw new BadReading(parsed.error.issues.map((i) => i.path.join(".")).join(", "));',
    'if (properties.type !== undefined && properties.type !== parsed.data.kind)  // set, and saying something else',
    '  throw new BadReading(`type property ${properties.type}, body says ${parsed.data.kind}`);',
    'return parsed.data;  // the parsed data, defaults filled in, not the raw body',
  ].join('\n'),
];
