// The hints of `npm run hint -- 1`, one level at a time: the concept, then the API to use, then near-code.
export const hints: string[] = [
  'A message is a body of bytes plus properties. encode puts the whole event in the body as JSON and copies a few of its fields into the properties (README § A message is bytes plus properties); decode trusts nothing: every problem it finds is a MalformedMessageError with a reason a person can act on.',
  'Buffer.from(text) and buffer.toString("utf8") convert between text and bytes. JSON.parse throws on bad JSON: catch it. isEventType(value) says whether a type is in the catalogue, and DomainEventSchema.safeParse(body) returns { success, data } or { success: false, error.issues }, each issue with a path. Date.parse gives milliseconds; AMQP timestamps are seconds.',
  'decode, in order: a contentType that is set and not application/json → refuse; JSON.parse in try/catch → refuse "not valid JSON"; body.type (only if the body is an object) not isEventType → refuse naming it; safeParse fails → refuse with issue.path.join(".") of each issue; properties.type set and not the body\'s type → refuse; return parsed.data.',
];
