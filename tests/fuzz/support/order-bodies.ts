// Bodies for POST /orders as a careless or malicious client sends them: a valid order with one
// thing changed (a wrong type, a number out of range, a string too long or full of control
// characters, prototype keys, lines of one sku that merge over the cap, deep nesting, extra keys
// at every level), bodies that are not JSON, wrong content types, and valid orders too, so that
// accepted orders are common. Each case says what the API may answer: accept it, or refuse it
// with a given status naming one of the given fields.
import fc from 'fast-check';
import { STARTING_CATALOGUE } from '../../../solutions/services/inventory/catalogue.ts';

export type ItemLine = string | { sku: string; quantity: number };

export interface OrderBody {
  orderId?: string;
  user: string;
  items: ItemLine[];
  express?: boolean;
}

export interface Refusal {
  statuses: number[];
  /** For a 400: the `field` it must name (one of these). */
  fields: string[];
}

export interface HttpCase {
  /** What was changed, for the counterexample. */
  what: string;
  /** The body as sent. FRESH_ORDER_ID in it is replaced by an id of this run's own. */
  body: string | Uint8Array;
  /** undefined: no Content-Type header at all. */
  contentType: string | undefined;
  headers?: Record<string, string>;
  /** When the API may accept it: the order it must store (items merged by sku). */
  accepts?: OrderBody;
  /** When the API may refuse it: how. */
  refuses?: Refusal;
}

/** Stands for the order id in a body; replaced per execution so shrinking never reuses an id. */
export const FRESH_ORDER_ID = '@@fresh-order-id@@';

const JSON_TYPE = 'application/json';
/** Express's body limit in http-api.ts (express.json({ limit: '100kb' })). */
const BODY_LIMIT_BYTES = 100 * 1024;

// Mostly things in stock (orders complete), some that fail (gold-bar costs more than the payment
// limit) or are rejected (unobtainium is never in stock, limited-edition runs out).
const skus = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('item1', 'item2', 'item3', 'item4', 'item5') },
  { weight: 2, arbitrary: fc.constantFrom(...STARTING_CATALOGUE.map((entry) => entry.sku)) },
);
const quantity = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 5 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 1000 }) },
);
const itemLine = (sku: string): fc.Arbitrary<ItemLine> => fc.oneof(fc.constant(sku), fc.record({ sku: fc.constant(sku), quantity }));

const isValidUser = (user: string) => user.length <= 200 && user.trim() !== '' && !/\p{Cc}|\p{Cs}/u.test(user);
const validUser = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom('gayal', 'ada lovelace', 'Zoë', '山田太郎', 'مريم', '👩‍💻 dev', 'a\u200db', "o'brien; DROP TABLE orders;--"),
  },
  { weight: 2, arbitrary: fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }).filter(isValidUser) },
  { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 200, unit: 'binary' }).filter(isValidUser) },
);

/** A valid order: distinct skus (so no merge goes over the cap), this run's own id, express or not. */
export const validOrder: fc.Arbitrary<OrderBody> = fc.record(
  {
    orderId: fc.constant(FRESH_ORDER_ID),
    user: validUser,
    items: fc.uniqueArray(skus, { minLength: 1, maxLength: 5 }).chain((chosen) => fc.tuple(...chosen.map(itemLine))),
    express: fc.boolean(),
  },
  { requiredKeys: ['orderId', 'user', 'items'] },
);

/** Lines of one sku become one line, quantities added, in the order each sku first appears. */
export function mergedItems(items: readonly ItemLine[]): { sku: string; quantity: number }[] {
  const bySku = new Map<string, number>();
  for (const line of items) {
    const { sku, quantity: q } = typeof line === 'string' ? { sku: line, quantity: 1 } : line;
    bySku.set(sku, (bySku.get(sku) ?? 0) + q);
  }
  return [...bySku].map(([sku, q]) => ({ sku, quantity: q }));
}

// Values too deep for JSON.stringify (it recurses) are written into the text afterwards.
const DEEP = /"@@deep-(array|object)-(\d+)@@"/g;
/** The body text of `value`, with the deep values and raw literals it stands for written in. */
function bodyText(value: unknown): string {
  return JSON.stringify(value)
    .replace(DEEP, (_, kind: string, depth: string) => {
      const [open, close] = kind === 'array' ? ['[', ']'] : ['{"a":', '}'];
      return `${open.repeat(Number(depth))}"bottom"${close.repeat(Number(depth))}`;
    })
    .replace(/"@@literal-([^@]+)@@"/, (_, literal: string) => literal);
}

function jsonCase(what: string, value: unknown, expectation: Pick<HttpCase, 'accepts' | 'refuses'>): HttpCase {
  return { what, body: bodyText(value), contentType: JSON_TYPE, ...expectation };
}

const refused = (fields: string[], statuses = [400]): Pick<HttpCase, 'refuses'> => ({ refuses: { statuses, fields } });

function withoutKey(body: OrderBody, key: keyof OrderBody): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...body };
  delete copy[key];
  return copy;
}

/** Arrays or objects nested deep, as a careless serializer or an attacker writes them (under the body limit). */
const deep = (kind: 'array' | 'object') =>
  fc.integer({ min: 2, max: kind === 'array' ? 30_000 : 8000 }).map((depth) => `@@deep-${kind}-${depth}@@`);
const deepNesting = fc.oneof(deep('array'), deep('object'));

type JsonKind = 'string' | 'number' | 'boolean' | 'array' | 'object';
const valuesOfKind: Record<JsonKind, fc.Arbitrary<unknown>> = {
  string: fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('', 'null', 'undefined', 'NaN', '1', 'true', '[]', '{}')),
  number: fc.oneof(
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom(0, -1, 1e308, Number.MAX_SAFE_INTEGER),
  ),
  boolean: fc.boolean(),
  array: fc.oneof(fc.constant([]), fc.array(fc.oneof(fc.string({ maxLength: 5 }), fc.integer()), { maxLength: 4 }), deep('array')),
  object: fc.oneof(
    fc.constant({}),
    fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), { maxKeys: 3 }),
    fc.constant(Object.fromEntries([['__proto__', { polluted: true }]])),
    deep('object'),
  ),
};
/** Any JSON value that is not of `kind` (null included). */
const notA = (...kinds: JsonKind[]): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.constant(null),
    ...(Object.keys(valuesOfKind) as JsonKind[]).filter((kind) => !kinds.includes(kind)).map((kind) => valuesOfKind[kind]),
  );

/** Keys an object should not have: prototype keys, near-misses of real ones, anything. */
const strangeKey = (known: string[]) =>
  fc
    .oneof(
      fc.constantFrom(
        '__proto__',
        'constructor',
        'prototype',
        'toString',
        'hasOwnProperty',
        'valueOf',
        'isAdmin',
        'price',
        'Items',
        'user ',
        'orderid',
        'items\u0000',
        '',
      ),
      fc.string({ maxLength: 20, unit: 'binary' }),
    )
    .filter((key) => !known.includes(key));

const huge = (min: number, max: number) => fc.integer({ min, max }).map((length) => 'x'.repeat(length));
const controlChar = fc
  .integer({ min: 0, max: 0x9f })
  .filter((code) => code < 0x20 || code >= 0x7f)
  .map((code) => String.fromCharCode(code));

/** The line at `index` in object form, so a mutation can change its quantity or add a key. */
function asObject(line: ItemLine): { sku: string; quantity: number } {
  return typeof line === 'string' ? { sku: line, quantity: 1 } : line;
}

function replaceLine(body: OrderBody, index: number, line: unknown): Record<string, unknown> {
  return { ...body, items: body.items.map((item, i) => (i === index ? line : item)) };
}

const lineIndex = (body: OrderBody) => fc.nat({ max: body.items.length - 1 });

/** Lines of `sku` adding up to `total` (each at most 1000), as objects or shorthand strings. */
function linesTotalling(sku: string, total: number): ItemLine[] {
  const lines: ItemLine[] = [];
  for (let left = total; left > 0; left -= Math.min(1000, left)) lines.push(left === 1 ? sku : { sku, quantity: Math.min(1000, left) });
  return lines;
}

/** What may be done to a valid order; the valid order itself comes up about one time in four. */
function mutations(body: OrderBody): fc.WeightedArbitrary<HttpCase>[] {
  const refusals = oneChange(body).map((arbitrary) => ({ weight: 1, arbitrary }));
  const accepted = (value: OrderBody): Pick<HttpCase, 'accepts'> => ({ accepts: value });
  return [
    { weight: Math.ceil(refusals.length / 4), arbitrary: fc.constant(jsonCase('a valid order', body, accepted(body))) },
    {
      weight: 2,
      arbitrary: fc.constant(
        jsonCase('a valid order without an orderId', withoutKey(body, 'orderId'), accepted({ ...body, orderId: undefined })),
      ),
    },
    ...refusals,
  ];
}

function oneChange(body: OrderBody): fc.Arbitrary<HttpCase>[] {
  const accepted = (value: OrderBody): Pick<HttpCase, 'accepts'> => ({ accepts: value });
  return [
    // user
    fc.constant(jsonCase('no user', withoutKey(body, 'user'), refused(['user']))),
    notA('string').map((user) => jsonCase('user of the wrong type', { ...body, user }, refused(['user']))),
    fc.constantFrom('', ' ', '   ', '\u3000', '\u00a0\u00a0').map((user) => jsonCase('a blank user', { ...body, user }, refused(['user']))),
    fc
      .tuple(controlChar, fc.nat({ max: 10 }))
      .map(([char, at]) =>
        jsonCase(
          'a control character in the user',
          { ...body, user: `${body.user.slice(0, at)}${char}${body.user.slice(at)}` },
          refused(['user']),
        ),
      ),
    huge(201, 90_000).map((user) => jsonCase('a user too long', { ...body, user }, refused(['user']))),
    huge(BODY_LIMIT_BYTES + 1, 3 * BODY_LIMIT_BYTES).map((user) =>
      jsonCase('a body over the size limit', { ...body, user }, refused(['(body)'], [413])),
    ),
    // Right-to-left overrides, combining marks, a BOM, the last code point: odd, but a name.
    fc
      .constantFrom('\u202eevil', 'e\u0301\u0301\u0301', '\ufeffbom', '\u{10ffff}', '\u200b\u200bx')
      .map((user) => jsonCase('unusual unicode in the user', { ...body, user }, accepted({ ...body, user }))),
    // A lone surrogate is not text (JSON.stringify writes it as \ud800): it could not be stored as sent.
    fc
      .tuple(fc.constantFrom('\ud800', '\udfff', '\udbff'), fc.nat({ max: 10 }))
      .map(([half, at]) =>
        jsonCase(
          'a lone surrogate in the user',
          { ...body, user: `${body.user.slice(0, at)}${half}${body.user.slice(at)}` },
          refused(['user']),
        ),
      ),

    // orderId
    notA('string').map((orderId) => jsonCase('orderId of the wrong type', { ...body, orderId }, refused(['orderId']))),
    fc
      .constantFrom('', '.', '..', '...', 'a b', 'a/b', '../etc', 'a?b', 'a#b', '%2e%2e', 'ü', '🦊', 'a\u0000b', 'id\n')
      .map((orderId) => jsonCase('a bad orderId', { ...body, orderId }, refused(['orderId']))),
    huge(101, 5000).map((orderId) => jsonCase('an orderId too long', { ...body, orderId }, refused(['orderId']))),

    // express
    notA('boolean').map((express) => jsonCase('express of the wrong type', { ...body, express }, refused(['express']))),

    // items as a whole
    fc.constant(jsonCase('no items', withoutKey(body, 'items'), refused(['items']))),
    fc.constant(jsonCase('empty items', { ...body, items: [] }, refused(['items']))),
    notA('array').map((items) => jsonCase('items not an array', { ...body, items }, refused(['items']))),
    fc
      .integer({ min: 101, max: 400 })
      .map((count) =>
        jsonCase('too many lines', { ...body, items: Array.from({ length: count }, (_, i) => `sku-${i}`) }, refused(['items'])),
      ),

    // one line
    fc
      .tuple(lineIndex(body), notA('string', 'object'))
      .map(([i, line]) => jsonCase('a line neither a sku nor an object', replaceLine(body, i, line), refused([`items.${i}`]))),
    fc
      .tuple(lineIndex(body), fc.constantFrom({}, { quantity: 1 }, { sku: 'item1' }))
      .map(([i, line]) =>
        jsonCase('a line missing its sku or quantity', replaceLine(body, i, line), refused([`items.${i}.sku`, `items.${i}.quantity`])),
      ),
    fc
      .tuple(lineIndex(body), fc.boolean())
      .map(([i, shorthand]) =>
        jsonCase('an empty sku', replaceLine(body, i, shorthand ? '' : { sku: '', quantity: 1 }), refused([`items.${i}.sku`])),
      ),
    fc
      .tuple(lineIndex(body), huge(101, 5000))
      .map(([i, sku]) => jsonCase('a sku too long', replaceLine(body, i, sku), refused([`items.${i}.sku`]))),
    fc
      .tuple(lineIndex(body), notA('string'))
      .map(([i, sku]) =>
        jsonCase(
          'a sku of the wrong type',
          replaceLine(body, i, { ...asObject(body.items[i] as ItemLine), sku }),
          refused([`items.${i}.sku`]),
        ),
      ),
    // Any string is a sku to the schema: an unknown one is out of stock (rejected), never a crash.
    fc
      .tuple(
        lineIndex(body),
        fc.oneof(
          fc.constantFrom(
            '__proto__',
            'constructor',
            'toString',
            'hasOwnProperty',
            'prototype',
            "x' OR '1'='1",
            '../../etc/passwd',
            '\u0000',
            '🥕',
            'ITEM1',
            ' item1',
          ),
          fc.string({ minLength: 1, maxLength: 100, unit: 'binary' }),
        ),
      )
      .map(([i, sku]) => {
        const items = body.items.map((item, at) => (at === i ? sku : item));
        return jsonCase('an odd or unknown sku', { ...body, items }, { ...accepted({ ...body, items }), ...refused([`items.${i}.sku`]) });
      }),
    fc
      .tuple(lineIndex(body), notA('number'))
      .map(([i, q]) =>
        jsonCase(
          'a quantity of the wrong type',
          replaceLine(body, i, { ...asObject(body.items[i] as ItemLine), quantity: q }),
          refused([`items.${i}.quantity`]),
        ),
      ),
    fc
      .tuple(lineIndex(body), fc.constantFrom('NaN', 'Infinity', '-1', '1e3', '0x10', ' 1', '１', '2'))
      .map(([i, q]) =>
        jsonCase(
          'a quantity as a NaN-ish string',
          replaceLine(body, i, { ...asObject(body.items[i] as ItemLine), quantity: q }),
          refused([`items.${i}.quantity`]),
        ),
      ),
    fc
      .tuple(
        lineIndex(body),
        fc.oneof(
          fc.constantFrom(0, -0, -1, 0.5, 1.5, 999.999, 1001, 1e21, 1e308, 5e-324, Number.MAX_SAFE_INTEGER + 2, -Number.MAX_SAFE_INTEGER),
          fc.integer({ min: 1001 }),
          fc.integer({ max: 0 }),
        ),
      )
      .map(([i, q]) =>
        jsonCase(
          'a quantity out of range',
          replaceLine(body, i, { ...asObject(body.items[i] as ItemLine), quantity: q }),
          refused([`items.${i}.quantity`]),
        ),
      ),
    // 1e400 is Infinity to JSON.parse; JSON.stringify cannot write it, so it goes into the text as written.
    fc
      .tuple(lineIndex(body), fc.constantFrom('1e400', '-1e400', '1E+999'))
      .map(([i, literal]) =>
        jsonCase(
          'a quantity beyond a double',
          replaceLine(body, i, { ...asObject(body.items[i] as ItemLine), quantity: `@@literal-${literal}@@` }),
          refused([`items.${i}.quantity`]),
        ),
      ),

    // lines of one sku, merged: over the cap is refused, up to it accepted
    fc.tuple(lineIndex(body), fc.integer({ min: 1001, max: 4000 }), fc.boolean()).map(([i, total, before]) => {
      const { sku, quantity: q } = asObject(body.items[i] as ItemLine);
      const extra = linesTotalling(sku, Math.max(1, total - q));
      return jsonCase(
        `lines of ${sku} merging over the cap`,
        { ...body, items: before ? [...extra, ...body.items] : [...body.items, ...extra] },
        refused(['items']),
      );
    }),
    fc.tuple(lineIndex(body), fc.integer({ min: 2, max: 1000 })).map(([i, total]) => {
      const { sku, quantity: q } = asObject(body.items[i] as ItemLine);
      const items = total > q ? [...body.items, ...linesTotalling(sku, total - q)] : body.items;
      return jsonCase(`lines of ${sku} merging up to the cap`, { ...body, items }, accepted({ ...body, items }));
    }),

    // extra keys at every level
    fc
      .tuple(strangeKey(['orderId', 'user', 'items', 'express']), fc.jsonValue({ maxDepth: 2 }))
      .map(([key, value]) =>
        jsonCase(`an extra key ${JSON.stringify(key)}`, Object.fromEntries([...Object.entries(body), [key, value]]), refused([key])),
      ),
    fc
      .tuple(lineIndex(body), strangeKey(['sku', 'quantity']), fc.jsonValue({ maxDepth: 2 }))
      .map(([i, key, value]) =>
        jsonCase(
          `an extra key ${JSON.stringify(key)} in a line`,
          replaceLine(body, i, Object.fromEntries([...Object.entries(asObject(body.items[i] as ItemLine)), [key, value]])),
          refused([`items.${i}.${key}`]),
        ),
      ),

    // deep nesting where a value belongs
    fc
      .tuple(fc.constantFrom('user', 'orderId', 'items', 'express'), deepNesting)
      .map(([key, value]) =>
        jsonCase(`${key} nested deep`, { ...body, [key]: value }, refused(key === 'items' ? ['items', 'items.0'] : [key])),
      ),
    fc
      .tuple(lineIndex(body), deepNesting)
      .map(([i, value]) =>
        jsonCase('a line nested deep', replaceLine(body, i, value), refused([`items.${i}`, `items.${i}.sku`, `items.${i}.a`])),
      ),

    // the same key twice in the text: JSON.parse keeps the last
    notA('string').map((user) => ({
      ...jsonCase('user twice, the last of the wrong type', body, refused(['user'])),
      body: bodyText(body).replace(/\}$/, `,"user":${bodyText(user)}}`),
    })),
  ];
}

/** Not JSON, or JSON that is not an object: the body as a whole is refused. */
const notJson: fc.Arbitrary<HttpCase> = fc.oneof(
  validOrder.chain((body) => {
    const text = JSON.stringify(body);
    return fc.integer({ min: 1, max: text.length - 1 }).map((cut) => ({
      what: 'a body cut short',
      body: text.slice(0, cut),
      contentType: JSON_TYPE,
      refuses: { statuses: [400], fields: ['(body)'] },
    }));
  }),
  fc.uint8Array({ maxLength: 2000 }).map((bytes) => ({
    what: 'binary garbage',
    body: Uint8Array.from([0x01, ...bytes]),
    contentType: JSON_TYPE,
    refuses: { statuses: [400], fields: ['(body)'] },
  })),
  fc
    .constantFrom(
      'null',
      '42',
      '"an order"',
      'true',
      '[]',
      '[{"user":"gayal"}]',
      '{"user": NaN}',
      "{'user': 'gayal'}",
      '{"user": "gayal",}',
      '\u0000',
      'undefined',
    )
    .map((text) => ({
      what: 'JSON that is not an object, or not JSON',
      body: text,
      contentType: JSON_TYPE,
      refuses: { statuses: [400], fields: ['(body)'] },
    })),
  // An empty body with a JSON content type is read as {}: the first missing field is named.
  fc.constantFrom('', '   ', '\n').map((text) => ({
    what: 'an empty body',
    body: text,
    contentType: JSON_TYPE,
    refuses: { statuses: [400], fields: ['user', '(body)'] },
  })),
);

/** A valid order sent as something else than JSON, or with odd headers. */
const wrongHeaders: fc.Arbitrary<HttpCase> = validOrder.chain((body) =>
  fc.oneof<fc.Arbitrary<HttpCase>[]>(
    fc
      .constantFrom(
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/xml',
        'application/jsonx',
        'application/vnd.api+json',
        'text/json',
        'json',
        '*/*',
        '',
      )
      .map((contentType) => ({
        what: `Content-Type ${JSON.stringify(contentType)}`,
        body: JSON.stringify(body),
        contentType,
        refuses: { statuses: [415], fields: [] },
      })),
    fc.constant({
      what: 'no Content-Type at all',
      body: new TextEncoder().encode(JSON.stringify(body)),
      contentType: undefined,
      refuses: { statuses: [415], fields: [] },
    }),
    // Still JSON: case and parameters do not change the media type.
    fc
      .constantFrom('application/json; charset=utf-8', 'APPLICATION/JSON', 'Application/Json; charset=UTF-8', 'application/json;foo=bar')
      .map((contentType) => ({ what: `Content-Type ${contentType}`, body: JSON.stringify(body), contentType, accepts: body })),
    // Plain ASCII (the catalogue's skus), which reads the same in UTF-7; UTF-32 reads it as garbage.
    fc.constantFrom('utf-7', 'klingon', 'utf-32').map((charset) => {
      const ascii = { ...body, user: 'gayal' };
      return {
        what: `charset ${charset}`,
        body: JSON.stringify(ascii),
        contentType: `application/json; charset=${charset}`,
        accepts: ascii,
        refuses: { statuses: [400, 415], fields: ['(body)'] },
      };
    }),
    fc.constantFrom('compress', 'x-unknown', 'gzip, identity, zstd').map((encoding) => ({
      what: `Content-Encoding ${encoding}`,
      body: JSON.stringify(body),
      contentType: JSON_TYPE,
      headers: { 'content-encoding': encoding },
      refuses: { statuses: [415], fields: ['(body)'] },
    })),
    fc.constantFrom('gzip', 'deflate', 'br').map((encoding) => ({
      what: `Content-Encoding ${encoding}, not compressed`,
      body: JSON.stringify(body),
      contentType: JSON_TYPE,
      headers: { 'content-encoding': encoding },
      refuses: { statuses: [400], fields: ['(body)'] },
    })),
  ),
);

export const httpCases: fc.Arbitrary<HttpCase> = fc.oneof(
  { weight: 12, arbitrary: validOrder.chain((body) => fc.oneof(...mutations(body))) },
  { weight: 1, arbitrary: notJson },
  { weight: 1, arbitrary: wrongHeaders },
);

/** A case as fast-check prints it in a counterexample: long bodies cut, so the report stays readable. */
export function summaryOf(httpCase: HttpCase): string {
  const text =
    typeof httpCase.body === 'string'
      ? httpCase.body
      : `<${httpCase.body.length} bytes: ${Buffer.from(httpCase.body.slice(0, 40)).toString('hex')}…>`;
  const shown = text.length > 300 ? `${text.slice(0, 300)}… (${text.length} characters)` : text;
  return `${httpCase.what}: Content-Type ${JSON.stringify(httpCase.contentType)}${httpCase.headers ? ` ${JSON.stringify(httpCase.headers)}` : ''}, body ${JSON.stringify(shown)}`;
}

/** Every kind of body, each printed by its summary. */
export const printableHttpCases: fc.Arbitrary<HttpCase> = httpCases.map((httpCase) => ({
  ...httpCase,
  [fc.toStringMethod]: () => summaryOf(httpCase),
}));
