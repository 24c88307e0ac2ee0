// The reference implementation of the layers (the nine, and the optional tenth), composed into the Layers the runtime uses.
import type { Layers } from '../../shared/layers/index.ts';
import { codec } from './01-publish-consume.ts';
import { routing } from './02-routing.ts';
import { fanout } from './03-fanout.ts';
import { durability } from './04-durability.ts';
import { acks } from './05-acks-prefetch.ts';
import { deadLetters } from './06-dead-letters.ts';
import { rpc } from './07-rpc.ts';
import { monitoring } from './08-monitoring.ts';
import { scaling } from './09-scaling.ts';
import { streams } from './10-streams.ts';

export const referenceLayers: Layers = { codec, routing, fanout, durability, acks, deadLetters, rpc, monitoring, scaling, streams };
