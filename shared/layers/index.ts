// The layers the order system is composed of, one per milestone: the nine of the course, and one
// optional milestone after them (10, streams: the audit log as a replayable stream, used when
// AUDIT_STREAM is on). solutions/layers holds the reference implementation of each; a learner's
// milestone work can replace any of them.
import type { AckLayer } from './05-acks-prefetch.ts';
import type { MessageCodec } from './01-publish-consume.ts';
import type { DeadLetterLayer } from './06-dead-letters.ts';
import type { DurabilityLayer } from './04-durability.ts';
import type { FanoutLayer } from './03-fanout.ts';
import type { MonitoringLayer } from './08-monitoring.ts';
import type { RoutingLayer } from './02-routing.ts';
import type { RpcLayer } from './07-rpc.ts';
import type { ScalingLayer } from './09-scaling.ts';
import type { StreamLayer } from './10-streams.ts';

export interface Layers {
  codec: MessageCodec; // 01
  routing: RoutingLayer; // 02
  fanout: FanoutLayer; // 03
  durability: DurabilityLayer; // 04
  acks: AckLayer; // 05
  deadLetters: DeadLetterLayer; // 06
  rpc: RpcLayer; // 07
  monitoring: MonitoringLayer; // 08
  scaling: ScalingLayer; // 09
  streams: StreamLayer; // 10, optional
}

export type LayerName = keyof Layers;

/**
 * Which milestone builds which layer. Every file of milestone N is named after its slug: the
 * interface `shared/layers/NN-slug.ts`, the reference `solutions/layers/NN-slug.ts`, the learner's
 * `milestones/NN-slug/slug.ts` (exporting the layer under its key), its tests
 * `tests/layers/NN-slug.test.ts`, and the grader's folder `grader/milestones/NN-slug/`. The grader's
 * list of milestones is built from this one.
 */
export interface LayerMilestone {
  number: number;
  slug: string;
  layer: LayerName;
  /**
   * A milestone after the nine ("Going further"): graded with `npm run grade -- N`, but left out of
   * `grade -- all` and of "all nine pass" unless the learner opts in (`--with-optional`).
   */
  optional?: true;
}

export const LAYER_MILESTONES: ReadonlyArray<LayerMilestone> = [
  { number: 1, slug: '01-publish-consume', layer: 'codec' },
  { number: 2, slug: '02-routing', layer: 'routing' },
  { number: 3, slug: '03-fanout', layer: 'fanout' },
  { number: 4, slug: '04-durability', layer: 'durability' },
  { number: 5, slug: '05-acks-prefetch', layer: 'acks' },
  { number: 6, slug: '06-dead-letters', layer: 'deadLetters' },
  { number: 7, slug: '07-rpc', layer: 'rpc' },
  { number: 8, slug: '08-monitoring', layer: 'monitoring' },
  { number: 9, slug: '09-scaling', layer: 'scaling' },
  { number: 10, slug: '10-streams', layer: 'streams', optional: true },
];

/** The file a learner writes for a milestone, relative to the project root: milestones/06-dead-letters/dead-letters.ts. */
export function exerciseFile(slug: string): string {
  return `milestones/${slug}/${slug.replace(/^\d\d-/, '')}.ts`;
}

export type { AckLayer, ConsumeOptions, ConsumerHandle, DeliveryHandler, FailureHandler, ProcessedMessages } from './05-acks-prefetch.ts';
export { MalformedMessageError } from './01-publish-consume.ts';
export type { MessageCodec, OutgoingMessage } from './01-publish-consume.ts';
export { PARK_HEADERS } from './06-dead-letters.ts';
export type { DeadLetterLayer, FailureOutcome } from './06-dead-letters.ts';
export { PublishRejectedError } from './04-durability.ts';
export type { DurabilityLayer } from './04-durability.ts';
export type { FanoutLayer } from './03-fanout.ts';
export type { ManagementTarget, MonitoringLayer, QueueStats } from './08-monitoring.ts';
export type { RoutingLayer } from './02-routing.ts';
export { RpcTimeoutError } from './07-rpc.ts';
export type { RpcClient, RpcHandler, RpcLayer, RpcServeOptions } from './07-rpc.ts';
export type { ScalingLayer, WorkerPool } from './09-scaling.ts';
export type { StreamHandler, StreamLayer, StreamOffset, StreamReader, StreamReadOptions, StreamSpec } from './10-streams.ts';
