// What milestone 2's checks share: the topology they declare against, the learner's declareRoutes
// run on a fresh vhost (queues first, as the runtime does), and how its bindings differ from the topology's.
import type { ConfirmChannel } from 'amqplib';
import { ExerciseNotWrittenError } from '../../../shared/workshop/exercise.ts';
import type { EventType } from '../../../shared/messages/events.ts';
import { buildTopology } from '../../../shared/topology/topology.ts';
import type { BindingSpec, ExchangeSpec, Topology } from '../../../shared/topology/types.ts';
import { type CheckContext, CheckFailure, expectThat } from '../../check.ts';
import { sampleEvent as sampleEventOf } from '../../../shared/messages/sample-events.ts';
import { bindingsOf, compareBindings, describeDiff, isEmptyDiff } from '../../checks/bindings-support.ts';
import { declareQueues } from '../../checks/topology-support.ts';
import { ignoreErrorsTheCheckReports } from '../../checks/support.ts';

// Retry queues keep what they get for a minute here, so a check can look at them before they
// dead-letter it back home.
export const TOPOLOGY = buildTopology({ retryDelayMs: 60_000, maxAttempts: 3, notificationTtlMs: 60_000, queueType: 'classic' });

export const sampleEvent = (type: EventType, express = false) => sampleEventOf(type, { express });

export const ROUTED = new Set(
  TOPOLOGY.exchanges.filter((spec) => spec.type === 'topic' || spec.type === 'direct' || spec.type === 'headers').map((spec) => spec.name),
);
/** The queue bindings layer 2 owns, from one exchange (order.exchange, retry.exchange or notification.sms.exchange). */
const queueBindingsFrom = (topology: Topology, exchange: string) =>
  topology.bindings.filter((b) => b.source === exchange && b.destinationKind === 'queue');
const queueBindingFrom = (exchange: string) => (b: BindingSpec) => b.source === exchange && b.destinationKind === 'queue';

/** How the vhost's queue bindings from `exchange` differ from the topology's, or undefined when they agree. */
export async function bindingCause(context: CheckContext, topology: Topology, exchange: string): Promise<string | undefined> {
  const diff = compareBindings(await bindingsOf(context), queueBindingsFrom(topology, exchange), queueBindingFrom(exchange));
  return isEmptyDiff(diff) ? undefined : `on ${exchange}, ${describeDiff(diff)}`;
}

/**
 * Messages went astray, yet the bindings read back afterwards are exactly the topology's: they were
 * not all in place when declareRoutes resolved (a declaration not awaited). Said as the cause, once.
 */
export const LATE_BINDINGS = {
  cause: "the bindings the broker has now are exactly the topology's, so some were not in place yet when declareRoutes resolved",
  hint: 'declareRoutes resolves too early: its promise must settle only after every declaration it makes has (README § Declaring is idempotent).',
};

/**
 * Fails unless a probe reached exactly `expected`, saying why when not: the binding difference `cause`
 * (bindingCause), or, with the bindings as the topology's, that they came too late. Said as the root
 * cause, once for all the checks that see it.
 */
export function expectReached(seen: string[], expected: string[], what: string, cause: string | undefined): void {
  const [why, hint] = cause ? [cause, undefined] : [LATE_BINDINGS.cause, LATE_BINDINGS.hint];
  expectThat(seen.join() === expected.join(), what, `it reached ${list(seen)}; ${why}`, hint, why);
}

export const list = (names: string[]) => (names.length === 0 ? 'no queue' : names.join(', '));

export async function openChannel(context: Pick<CheckContext, 'connect'>): Promise<ConfirmChannel> {
  const channel = await (await context.connect()).createConfirmChannel();
  ignoreErrorsTheCheckReports(channel);
  return channel;
}

export const whyFailed = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Queues, then the learner's declareRoutes; with `fanout`, then the reference fanout layer (it
 * declares unroutable.exchange, the alternate exchange's target). `durable` declares everything as
 * the system does (needed when services start on the same vhost); `durableExchanges` only the
 * exchanges (to see that declareRoutes passes on exchangeOptions).
 */
export async function declareRouting(
  context: CheckContext<'routing'>,
  options: { durable?: boolean; durableExchanges?: boolean; fanout?: boolean; topology?: Topology } = {},
): Promise<ConfirmChannel> {
  const { topology = TOPOLOGY, durable = false, durableExchanges = durable } = options;
  const exchangeOptions = (spec: ExchangeSpec) => ({
    ...context.reference.durability.exchangeOptions(spec),
    ...(durableExchanges ? {} : { durable: false }),
  });
  const channel = await openChannel(context);
  await declareQueues(channel, topology, context.reference, durable, context.settings.queueType);
  try {
    await context.layer.declareRoutes(channel, topology, exchangeOptions);
  } catch (error) {
    if (error instanceof ExerciseNotWrittenError) throw error;
    throw new CheckFailure('declareRoutes to declare the exchanges and bindings without errors', `it failed: ${whyFailed(error)}`);
  }
  if (options.fanout) {
    try {
      await context.reference.fanout.declareFanout(channel, topology, exchangeOptions);
    } catch (error) {
      throw new CheckFailure(
        'the reference fanout layer (milestone 3) to bind to your exchanges after declareRoutes',
        `the broker refused: ${whyFailed(error)}`,
      );
    }
  }
  return channel;
}
