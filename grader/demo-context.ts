// What a milestone's demo scenario gets: the learner's layer plugged into the reference layers, a
// vhost of its own, and a way to print readable lines.
import type { ChannelModel } from 'amqplib';
import type { Layers, ManagementTarget } from '../shared/layers/index.ts';
import type { ServiceName } from '../shared/messages/events.ts';
import type { Logger } from '../shared/log.ts';
import type { ServiceConfig } from '../solutions/runtime/service-config.ts';
import type { RunningSystem } from '../solutions/system.ts';

export interface DemoContext {
  layers: Layers;
  url: string;
  management: ManagementTarget;
  log: Logger;
  connect(): Promise<ChannelModel>;
  /** Services of the reference system with the learner's layer, logging to the screen. */
  startSystem(options?: { services?: ServiceName[]; config?: Partial<ServiceConfig> }): Promise<RunningSystem>;
}
