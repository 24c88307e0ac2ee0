// The nine layers as the learner wrote them, one from each milestone's exercise file: what
// `npm start -- --layers mine` runs the whole system on.
import type { Layers } from '../shared/layers/index.ts';
import { MILESTONES } from './manifest.ts';
import { loadLayer } from './runner.ts';

/** Thrown when an exercise file does not load or does not export its layer; names the file. */
export class LearnerLayerError extends Error {
  override name = 'LearnerLayerError';
}

/** Imports every milestone's exercise file (relative to the working directory, the project root). */
export async function loadLearnerLayers(): Promise<Layers> {
  const layers: Partial<Record<keyof Layers, unknown>> = {};
  for (const milestone of MILESTONES) {
    let layer: unknown;
    try {
      layer = await loadLayer(milestone, 'mine');
    } catch (error) {
      throw new LearnerLayerError(`milestone ${milestone.number}: ${milestone.exercise.file} does not load: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    if (typeof layer !== 'object' || layer === null) {
      throw new LearnerLayerError(`milestone ${milestone.number}: \`${milestone.exercise.exportName}\` in ${milestone.exercise.file} is not a layer object (it is ${layer === null ? 'null' : typeof layer})`);
    }
    layers[milestone.layer] = layer;
  }
  return layers as Layers;
}
