// Helpers the routing and fanout checks (milestones 2 and 3) use to read the broker's bindings back
// through the management API and say, binding by binding, how they differ from the topology data:
// missing, not in the topology, or pointing the wrong way (source and destination swapped).
import type { BindingSpec } from '../../shared/topology/types.ts';
import type { CheckContext } from '../check.ts';

/** A binding as GET /api/bindings/{vhost} shows it. */
export interface BindingInfo {
  source: string;
  destination: string;
  destination_type: 'queue' | 'exchange';
  routing_key: string;
  /** What a headers exchange matches on (x-match and the headers); {} for most bindings. */
  arguments?: Record<string, unknown>;
}

/** Every binding of the check's vhost, but the default exchange's implicit one per queue. */
export async function bindingsOf(context: Pick<CheckContext, 'vhost'>): Promise<BindingInfo[]> {
  const all = await context.vhost.api.request<BindingInfo[]>('GET', `/bindings/${encodeURIComponent(context.vhost.name)}`);
  return all.filter((binding) => binding.source !== '');
}

export const asSpec = (binding: BindingInfo): BindingSpec => ({
  source: binding.source,
  destination: binding.destination,
  destinationKind: binding.destination_type,
  pattern: binding.routing_key,
  ...(binding.arguments && Object.keys(binding.arguments).length > 0 ? { arguments: binding.arguments } : {}),
});

/**
 * Binding arguments as one string, keys sorted, values with their JSON type: {"express":true} and
 * {"express":"true"} differ (as on the broker, where a string never matches a boolean). No
 * arguments and {} are the same. The management API shows AMQP booleans as JSON true/false.
 */
export function describeArguments(args: Record<string, unknown> | undefined): string {
  const entries = Object.entries(args ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.length === 0 ? '' : `{ ${entries.map(([key, value]) => `${key}: ${JSON.stringify(value)}`).join(', ')} }`;
}

const keyOf = (b: BindingSpec) =>
  `${b.source}\u0000${b.destination}\u0000${b.destinationKind}\u0000${b.pattern}\u0000${describeArguments(b.arguments)}`;

/** "order.exchange → audit.fanout.exchange (exchange) with "payment.*"", and its arguments when it has some. */
export function describeBinding(b: BindingSpec): string {
  const args = describeArguments(b.arguments);
  const key = b.pattern === '' && args !== '' ? '' : ` with ${b.pattern === '' ? "the key ''" : `"${b.pattern}"`}`;
  return `${b.source} → ${b.destination}${b.destinationKind === 'exchange' ? ' (an exchange)' : ''}${key}${args === '' ? '' : ` with the arguments ${args}`}`;
}

export interface BindingDiff {
  missing: BindingSpec[];
  extra: BindingSpec[];
  /** Extra bindings that are a missing one with source and destination swapped. */
  reversed: Array<{ wanted: BindingSpec; seen: BindingSpec }>;
}

/**
 * Compares the bindings on the broker that `inScope` selects with the topology's `expected` ones.
 * A binding declared twice is one binding on the broker: duplicates are harmless and not reported.
 */
export function compareBindings(actual: BindingInfo[], expected: BindingSpec[], inScope: (binding: BindingSpec) => boolean): BindingDiff {
  const seen = actual.map(asSpec).filter(inScope);
  const seenKeys = new Set(seen.map(keyOf));
  const expectedKeys = new Set(expected.map(keyOf));
  const missing = expected.filter((b) => !seenKeys.has(keyOf(b)));
  const extra = seen.filter((b) => !expectedKeys.has(keyOf(b)));
  const reversed: BindingDiff['reversed'] = [];
  for (const wanted of missing) {
    const swapped = extra.find((b) => b.source === wanted.destination && b.destination === wanted.source && b.pattern === wanted.pattern);
    if (swapped) reversed.push({ wanted, seen: swapped });
  }
  return {
    missing: missing.filter((b) => !reversed.some((r) => r.wanted === b)),
    extra: extra.filter((b) => !reversed.some((r) => r.seen === b)),
    reversed,
  };
}

export const isEmptyDiff = (diff: BindingDiff) => diff.missing.length + diff.extra.length + diff.reversed.length === 0;

/** One sentence per kind of difference, the reversed ones first: they are the least visible. */
export function describeDiff(diff: BindingDiff, limit = 4): string {
  const few = (list: BindingSpec[]) =>
    `${list.slice(0, limit).map(describeBinding).join('; ')}${list.length > limit ? `; and ${list.length - limit} more` : ''}`;
  const parts: string[] = [];
  if (diff.reversed.length > 0) {
    const shown = diff.reversed.slice(0, limit).map(({ seen }) => `${seen.source} → ${seen.destination} with "${seen.pattern}"`);
    parts.push(
      `bindings that point the wrong way: ${shown.join('; ')}${diff.reversed.length > limit ? `; and ${diff.reversed.length - limit} more` : ''} ` +
        `(the topology binds ${diff.reversed[0]?.wanted.source} → ${diff.reversed[0]?.wanted.destination}: source and destination are swapped)`,
    );
  }
  if (diff.missing.length > 0) parts.push(`missing bindings: ${few(diff.missing)}`);
  if (diff.extra.length > 0) parts.push(`bindings the topology does not have: ${few(diff.extra)}`);
  return parts.join('. ');
}
