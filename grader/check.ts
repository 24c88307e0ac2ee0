// What a check is, and what it gets to work with. A check plugs the graded layer into the
// reference system (or drives it directly), observes the broker and the messages, and throws
// CheckFailure with what it expected and what it saw. It never inspects source text.
import type { ChannelModel } from 'amqplib';
import { EnvironmentError } from '../shared/cli/errors.ts';
import type { ManagementApi } from '../shared/broker/management-api.ts';
import type { LayerName, Layers, ManagementTarget } from '../shared/layers/index.ts';
import type { ServiceName } from '../shared/messages/events.ts';
import type { Topology, TopologySettings } from '../shared/topology/types.ts';
import type { ServiceConfig } from '../solutions/runtime/service-config.ts';
import type { RunningSystem } from '../solutions/system.ts';
import type { BrokerControl } from './broker-control.ts';

/**
 * A check's verdict on what it observed: "expected X, saw Y". `hint` replaces the check's own 💰
 * when this failure has a more precise one (a requeue loop → requeue; a missing expiration →
 * expiration): a hint about what the check saw, never the whole recipe. `rootCause`: the cause the
 * check diagnosed, as a sentence that other checks seeing the same cause say word for word (a
 * swapped binding, an exchange of the wrong type): the report prints it once, and the other checks
 * say "same cause as …". Where `seen` contains it, the report shortens it there.
 */
export class CheckFailure extends Error {
  constructor(
    readonly expected: string,
    readonly seen: string,
    readonly hint?: string,
    readonly rootCause?: string,
  ) {
    super(`expected ${expected}; saw ${seen}`);
    this.name = 'CheckFailure';
  }
}

/**
 * The check could not judge the layer, through no fault of the layer's: the broker never showed
 * what the check waits for (a statistics sample that never came). An "error" verdict, never a fail.
 */
export class CannotJudgeError extends EnvironmentError {
  override name = 'CannotJudgeError';
}

/**
 * The check is about something this broker does not have (a quorum queue's delayed retry before
 * RabbitMQ 4.3): "could not check" here, never a fail, and the milestone can pass without it
 * (verdict.ts: errorKind 'not-applicable'). Its message says which broker it needs.
 */
export class BrokerTooOldError extends CannotJudgeError {
  override name = 'BrokerTooOldError';
}

/** The machine was too busy for the grader to tell what the layer did (`detail` says what it saw): could not judge. */
export function machineTooBusy(detail: string): CannotJudgeError {
  return new CannotJudgeError(`could not judge: ${detail}. The machine was too busy; run again (with less running beside it, if you can)`);
}

/** Throws CheckFailure unless `condition` holds. `seen` is computed only on failure; `hint` fits this failure; `rootCause` as CheckFailure's. */
export function expectThat(
  condition: unknown,
  expected: string,
  seen: string | (() => string),
  hint?: string,
  rootCause?: string,
): asserts condition {
  if (!condition) throw new CheckFailure(expected, typeof seen === 'function' ? seen() : seen, hint, rootCause);
}

export interface CheckContext<K extends LayerName = LayerName> {
  /** The layer being graded (the learner's, the reference, or a known-wrong variant in self-tests). */
  layer: Layers[K];
  /** The reference layers with the graded one plugged in: compose the system with these. */
  layers: Layers;
  /** The reference layers alone, for the parts of a check that are not under test. */
  reference: Layers;
  /** A vhost of this check's own, deleted when it ends. */
  vhost: { name: string; url: string; api: ManagementApi; management: ManagementTarget };
  /** Short retry delays and TTLs, so checks are fast. */
  settings: TopologySettings;
  topology: Topology;
  /** A connection to the check's vhost, closed when the check ends. */
  connect(): Promise<ChannelModel>;
  /** Starts services of the reference system with `layers`, on this vhost and a temp data dir; stopped when the check ends. */
  startSystem(options?: { services?: ServiceName[]; config?: Partial<ServiceConfig> }): Promise<RunningSystem>;
  /** Runs when the check ends, pass or fail (last registered, first run). */
  onCleanup(cleanup: () => Promise<void> | void): void;
  /** Says something on screen before it happens (a broker restart). */
  announce(message: string): void;
  /** Restarting a broker, for the durability checks. */
  brokerControl: BrokerControl;
  /** Aborted when the check times out: long waits should give up. */
  signal: AbortSignal;
}

export interface Check<K extends LayerName = LayerName> {
  /** Stable id, `NN.short-name`: progress, JSON results and the self-tests refer to it. */
  id: string;
  /** One line a learner understands: what behaviour is checked. */
  name: string;
  /** 💰 What to look at when it fails (a CheckFailure may carry a more precise one). */
  hint: string;
  /**
   * Ids of earlier checks of the same milestone whose failure makes this one fail too: when one of
   * them failed, this failure says "follows from …" so the learner fixes the cause first.
   */
  after?: string[];
  /** Default 5000 ms. */
  timeoutMs?: number;
  run(context: CheckContext<K>): Promise<void>;
}

export function defineChecks<K extends LayerName>(_layer: K, checks: Check<K>[]): Check<K>[] {
  return checks;
}
