// A known-wrong implementation of a layer: a small variant of the reference with one classic
// mistake (noAck, a non-persistent publish, a reply matched without its correlation id...). The
// self-tests prove each check catches at least one of them; that is how the grader proves itself.
// Each reads on its own: the reference with one named step replaced (milestone 5's
// `consumeWith({ stop })`, the steps written out once in the milestone's mutants/ folder), or a
// small whole function as a learner writes it; never a copy of the answer behind flags.
import type { LayerName, Layers } from '../shared/layers/index.ts';

export interface Mutant<K extends LayerName = LayerName> {
  /** The mistake, as a learner would make it. */
  name: string;
  /** Ids of the checks that must fail for it. */
  breaks: string[];
  /**
   * Checks it breaks only on a broker that applies a channel-wide prefetch (global QoS): RabbitMQ
   * before 4.3. From 4.3 global QoS is denied by default and the broker counts such a prefetch per
   * consumer instead (measured on 4.3.6), so the mistake no longer shows there.
   */
  breaksWithGlobalQos?: string[];
  /**
   * Checks it breaks only on a broker with a quorum queue's delayed retry (RabbitMQ 4.3 and later):
   * on an older broker those checks cannot check anything (BrokerTooOldError), and say so.
   */
  breaksWithDelayedRetry?: string[];
  layer: Layers[K];
}

export function defineMutants<K extends LayerName>(_layer: K, mutants: Mutant<K>[]): Mutant<K>[] {
  return mutants;
}

/**
 * A known-valid implementation that differs from the reference in a way a learner may well choose
 * (direct reply-to instead of a reply queue of its own, other bookkeeping, another loop shape). The
 * self-proof requires it to pass every check: a check that rejects it judges the shape, not the behaviour.
 */
export interface Alternative<K extends LayerName = LayerName> {
  name: string;
  layer: Layers[K];
}

export function defineAlternatives<K extends LayerName>(_layer: K, alternatives: Alternative<K>[]): Alternative<K>[] {
  return alternatives;
}
