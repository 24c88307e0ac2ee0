// The nine layers the order system is composed of, one per milestone. solutions/layers holds the
// reference implementation of each; a learner's milestone work can replace any of them.
import type { AckLayer } from './acks.ts';
import type { MessageCodec } from './codec.ts';
import type { DeadLetterLayer } from './dead-letters.ts';
import type { DurabilityLayer } from './durability.ts';
import type { FanoutLayer } from './fanout.ts';
import type { MonitoringLayer } from './monitoring.ts';
import type { RoutingLayer } from './routing.ts';
import type { RpcLayer } from './rpc.ts';
import type { ScalingLayer } from './scaling.ts';

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
}

export type { AckLayer, ConsumeOptions, ConsumerHandle, DeliveryHandler, FailureHandler, ProcessedMessages } from './acks.ts';
export { MalformedMessageError } from './codec.ts';
export type { MessageCodec, OutgoingMessage } from './codec.ts';
export { PARK_HEADERS } from './dead-letters.ts';
export type { DeadLetterLayer, FailureOutcome } from './dead-letters.ts';
export { PublishRejectedError } from './durability.ts';
export type { DurabilityLayer } from './durability.ts';
export type { FanoutLayer } from './fanout.ts';
export type { ManagementTarget, MonitoringLayer, QueueStats } from './monitoring.ts';
export type { RoutingLayer } from './routing.ts';
export { RpcTimeoutError } from './rpc.ts';
export type { RpcClient, RpcHandler, RpcLayer } from './rpc.ts';
export type { ScalingLayer, WorkerPool } from './scaling.ts';
