// The one list of milestones: the nine of the course (CORE_MILESTONES), then the optional one after
// them (OPTIONAL_MILESTONES: 10, streams). The grader, the CLI (grade, milestone, reset, diff), the docs and the
// self-tests all read it. It is built from the system's list of layers (LAYER_MILESTONES in
// shared/layers/index.ts: number, slug, layer) and the grader's folder of each milestone,
// grader/milestones/NN-slug/ (manifest.ts: title, goal, budget; checks, demo, hints, known-wrong
// variants and self-proof beside it); the authoring test checks that they and the folders agree.
import { exerciseFile, LAYER_MILESTONES, type LayerName } from '../shared/layers/index.ts';
import type { Check } from './check.ts';
import type { DemoContext } from './demo-context.ts';
import * as publishConsume from './milestones/01-publish-consume/manifest.ts';
import * as routing from './milestones/02-routing/manifest.ts';
import * as fanout from './milestones/03-fanout/manifest.ts';
import * as durability from './milestones/04-durability/manifest.ts';
import * as acksPrefetch from './milestones/05-acks-prefetch/manifest.ts';
import * as deadLetters from './milestones/06-dead-letters/manifest.ts';
import * as rpc from './milestones/07-rpc/manifest.ts';
import * as monitoring from './milestones/08-monitoring/manifest.ts';
import * as scaling from './milestones/09-scaling/manifest.ts';
import * as streams from './milestones/10-streams/manifest.ts';

export interface Milestone {
  number: number;
  /** Folder name under milestones/ and grader/milestones/, e.g. 06-dead-letters. */
  slug: string;
  title: string;
  /** One sentence: what the learner builds and why the order system needs it. */
  goal: string;
  /**
   * After the nine ("Going further"): `npm run grade -- N` grades it, but `grade -- all`, the next
   * milestone and "all nine pass" leave it out unless the learner opts in (--with-optional).
   */
  optional: boolean;
  /** The layer of the system this milestone builds (a key of Layers). */
  layer: LayerName;
  /** The file the learner edits, and the name of the export the grader plugs in. */
  exercise: { file: string; exportName: string };
  /** The reference answer: the layer module of the finished system. */
  reference: { file: string; exportName: string };
  /** Loads the milestone's checks (grader/milestones/NN-slug/checks.ts). */
  checks: () => Promise<Check[]>;
  /** A short scenario that runs the learner's layer with readable logs (npm run milestone -- N). */
  demo: () => Promise<{ runDemo: (context: DemoContext) => Promise<void> }>;
  /** The hints of `npm run hint -- N`, in levels: the concept, then the API, then the hard parts on another example (grader/milestones/NN-slug/hints.ts). */
  hints: () => Promise<string[]>;
  /** Checks the starter may pass as shipped, with the reason (the self-test holds us to this list). */
  starterExemptions?: Record<string, string>;
  /** The wall-time budget for grading this milestone (docs/grader-performance.md). */
  budgetMs: number;
  /**
   * Its checks start services of the reference system (context.startSystem). A grading child started
   * ahead of its request then loads the system too while the command finds the broker, instead of in
   * the first check that needs it (about 0.6 s of CPU: express, SQLite, OpenTelemetry). The self-proof
   * holds this flag to what the reference's grading does.
   */
  startsTheSystem?: boolean;
  /** Run the checks at the same time (each has its own vhost): for checks that mostly wait on the broker's sampled statistics. */
  concurrentChecks?: boolean;
}

/** What a milestone's folder says of it: grader/milestones/NN-slug/manifest.ts. */
type FolderManifest = Pick<Milestone, 'title' | 'goal' | 'budgetMs' | 'concurrentChecks' | 'starterExemptions' | 'startsTheSystem'>;

/** The manifest of each milestone's folder, by slug. */
const FOLDERS: Record<string, FolderManifest> = {
  '01-publish-consume': publishConsume,
  '02-routing': routing,
  '03-fanout': fanout,
  '04-durability': durability,
  '05-acks-prefetch': acksPrefetch,
  '06-dead-letters': deadLetters,
  '07-rpc': rpc,
  '08-monitoring': monitoring,
  '09-scaling': scaling,
  '10-streams': streams,
};

export const MILESTONES: Milestone[] = LAYER_MILESTONES.map(({ number, slug, layer, optional }) => {
  const folder = FOLDERS[slug];
  if (!folder) throw new Error(`milestone ${number} (${slug}) has no manifest in grader/manifest.ts's FOLDERS`);
  return {
    ...folder,
    number,
    slug,
    layer,
    optional: optional === true,
    exercise: { file: exerciseFile(slug), exportName: layer },
    reference: { file: `solutions/layers/${slug}.ts`, exportName: layer },
    checks: () => import(`./milestones/${slug}/checks.ts`).then((m: { checks: Check[] }) => m.checks),
    demo: () => import(`./milestones/${slug}/demo.ts`),
    hints: () => import(`./milestones/${slug}/hints.ts`).then((m: { hints: string[] }) => m.hints),
  };
});

/** The nine of the course: what `grade -- all`, the next milestone and "all nine pass" mean. */
export const CORE_MILESTONES: Milestone[] = MILESTONES.filter((m) => !m.optional);

/** The optional milestones after the nine ("Going further"). */
export const OPTIONAL_MILESTONES: Milestone[] = MILESTONES.filter((m) => m.optional);

export function milestone(number: number): Milestone {
  const found = MILESTONES.find((m) => m.number === number);
  if (!found) throw new Error(`there is no milestone ${number}: choose 1 to ${MILESTONES.length}`);
  return found;
}
