// The one list of milestones. The grader, the CLI (grade, milestone, reset, diff), the docs and the
// self-tests all read it; the authoring test checks that it and the folders agree.
import { exerciseFile, LAYER_MILESTONES } from '../shared/layers/index.ts';
import type { Check, LayerName } from './check.ts';
import type { DemoContext } from './demo-context.ts';

export interface Milestone {
  number: number;
  /** Folder name under milestones/, e.g. 06-dead-letters. */
  slug: string;
  title: string;
  /** One sentence: what the learner builds and why the order system needs it. */
  goal: string;
  /** The layer of the system this milestone builds (a key of Layers). */
  layer: LayerName;
  /** The file the learner edits, and the name of the export the grader plugs in. */
  exercise: { file: string; exportName: string };
  /** The reference answer: the layer module of the finished system. */
  reference: { file: string; exportName: string };
  /** Loads the milestone's checks (grader/checks/NN-slug.ts). */
  checks: () => Promise<Check[]>;
  /** A short scenario that runs the learner's layer with readable logs (npm run milestone -- N). */
  demo: () => Promise<{ runDemo: (context: DemoContext) => Promise<void> }>;
  /** The hints of `npm run hint -- N`, in levels: the concept, then the API, then the hard parts on another example (grader/hints/NN-slug.ts). */
  hints: () => Promise<string[]>;
  /** Checks the starter may pass as shipped, with the reason (the self-test holds us to this list). */
  starterExemptions?: Record<string, string>;
  /** The wall-time budget for grading this milestone (docs/grader-performance.md). */
  budgetMs: number;
  /** Run the checks at the same time (each has its own vhost): for checks that mostly wait on the broker's sampled statistics. */
  concurrentChecks?: boolean;
}

/** Every file of a milestone is named after its slug (see LAYER_MILESTONES). */
function files(number: number): Pick<Milestone, 'number' | 'slug' | 'layer' | 'exercise' | 'reference' | 'checks' | 'demo' | 'hints'> {
  const entry = LAYER_MILESTONES.find((m) => m.number === number);
  if (!entry) throw new Error(`LAYER_MILESTONES has no milestone ${number}`);
  const { slug, layer } = entry;
  return {
    number,
    slug,
    layer,
    exercise: { file: exerciseFile(slug), exportName: layer },
    reference: { file: `solutions/layers/${slug}.ts`, exportName: layer },
    checks: () => import(`./checks/${slug}.ts`).then((m: { checks: Check[] }) => m.checks),
    demo: () => import(`./demos/${slug}.ts`),
    hints: () => import(`./hints/${slug}.ts`).then((m: { hints: string[] }) => m.hints),
  };
}

export const MILESTONES: Milestone[] = [
  {
    ...files(1),
    title: 'Publish and consume',
    goal: 'Turn order events into AMQP messages and back, and watch one travel through a real queue.',
    budgetMs: 5000,
  },
  {
    ...files(2),
    title: 'Routing with topic and direct exchanges',
    goal: 'Declare the event bus and bind each service queue to exactly the events it needs.',
    budgetMs: 5000,
  },
  {
    ...files(3),
    title: 'Fanout: notifications and audit',
    goal: 'Broadcast every order status to email and SMS, and every event to the audit log.',
    budgetMs: 5000,
  },
  {
    ...files(4),
    title: 'Durability and publisher confirms',
    goal: 'Survive a broker restart, and only call a message sent once the broker has confirmed it.',
    budgetMs: 20000,
  },
  {
    ...files(5),
    title: 'Manual acks, prefetch and idempotency',
    goal: 'Never lose a message a consumer was working on, never hold more than you can handle, and never apply one twice.',
    budgetMs: 5000,
  },
  {
    ...files(6),
    title: 'Dead letters and retries',
    goal: 'Retry a failed message after a delay, a bounded number of times, then park it with the reason.',
    budgetMs: 5000,
  },
  {
    ...files(7),
    title: 'Request and reply (RPC)',
    goal: 'Ask the payment service a question over RabbitMQ and get the right answer back, or a timeout.',
    budgetMs: 5000,
  },
  {
    ...files(8),
    title: 'Monitoring through the management API',
    goal: 'Read queue depths, unacked counts, consumers and rates from the management HTTP API, for any vhost, as any user, and say so when it refuses.',
    // Seven checks talk to a fake management API and are quick; one waits for the real broker's
    // statistics sample (collect_statistics_interval): they run at the same time.
    concurrentChecks: true,
    budgetMs: 8000,
  },
  {
    ...files(9),
    title: 'Scaling with competing consumers',
    goal: 'Run several workers on one queue, each on a channel of its own, share the load fairly, let express orders overtake, and scale down without losing, repeating or leaking anything.',
    budgetMs: 5000,
  },
];

export function milestone(number: number): Milestone {
  const found = MILESTONES.find((m) => m.number === number);
  if (!found) throw new Error(`there is no milestone ${number}: choose 1 to ${MILESTONES.length}`);
  return found;
}
