// The one place that decides where each of the nine layers comes from: the reference in this
// folder, or a learner's exercise file under milestones/. The grader (a check, a demo) and
// `npm start -- --layers mine` all compose through here.
import { pathToFileURL } from 'node:url';
import { CliError } from '../../shared/cli/errors.ts';
import { exerciseFile, LAYER_MILESTONES, type LayerName, type Layers } from '../../shared/layers/index.ts';
import { deadLettersOn } from './06-dead-letters.ts';
import { referenceLayers } from './index.ts';

/** An exercise file that does not load or does not export its layer; the message names the file. */
export class LearnerLayerError extends CliError {}

/**
 * The reference layers with the given ones in their place. A reference layer that uses a lower one
 * takes it from here, never from its sibling file: the reference layer 6 parks through the composed
 * layer 4, so a learner's layer 4 is the one that publishes the dead-letter copies.
 */
export function composeLayers(replacements: Partial<Layers> = {}): Layers {
  const layers: Layers = { ...referenceLayers, ...replacements };
  if (replacements.durability && !replacements.deadLetters) layers.deadLetters = deadLettersOn(replacements.durability);
  return layers;
}

/**
 * Imports one milestone's exercise file (relative to the working directory, the project root) and
 * returns what it exports under the layer's name, unchecked: the grader judges it.
 */
export async function importLearnerLayer(layer: LayerName): Promise<unknown> {
  const file = exerciseFile(milestoneOf(layer).slug);
  const module = (await import(pathToFileURL(`${process.cwd()}/${file}`).href)) as Record<string, unknown>;
  if (!(layer in module)) throw new LearnerLayerError(`${file} does not export \`${layer}\` (did you rename it?)`);
  return module[layer];
}

/** The learner's nine layers (`npm start -- --layers mine`); a file that does not load is a LearnerLayerError naming it. */
export async function learnerLayers(): Promise<Layers> {
  const replacements: Partial<Record<LayerName, unknown>> = {};
  for (const { number, slug, layer } of LAYER_MILESTONES) {
    const file = exerciseFile(slug);
    let value: unknown;
    try {
      value = await importLearnerLayer(layer);
    } catch (error) {
      if (error instanceof LearnerLayerError) throw new LearnerLayerError(`milestone ${number}: ${error.message}`);
      throw new LearnerLayerError(`milestone ${number}: ${file} does not load: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }
    if (typeof value !== 'object' || value === null) {
      throw new LearnerLayerError(
        `milestone ${number}: \`${layer}\` in ${file} is not a layer object (it is ${value === null ? 'null' : typeof value})`,
      );
    }
    replacements[layer] = value;
  }
  return composeLayers(replacements as Partial<Layers>);
}

function milestoneOf(layer: LayerName) {
  const found = LAYER_MILESTONES.find((m) => m.layer === layer);
  if (!found) throw new Error(`no milestone builds the ${layer} layer`);
  return found;
}
