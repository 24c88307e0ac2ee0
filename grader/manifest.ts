// The one list of milestones. The grader, the CLI (grade, milestone, reset, diff), the docs and the
// self-tests all read it; the authoring test checks that it and the folders agree.
import type { Check, LayerName } from './check.ts';

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
  demo: () => Promise<{ runDemo: (context: import('./demo-context.ts').DemoContext) => Promise<void> }>;
  /** Hints shown with the brief, beyond each check's own. */
  hints: string[];
  /** Checks the starter may pass as shipped, with the reason (the self-test holds us to this list). */
  starterExemptions?: Record<string, string>;
  /** The wall-time budget for grading this milestone (docs/grader-performance.md). */
  budgetMs: number;
  /** Run the checks at the same time (each has its own vhost): for checks that mostly wait on the broker's sampled statistics. */
  concurrentChecks?: boolean;
}

const load = (module: Promise<{ checks: Check[] }>) => module.then((m) => m.checks);

export const MILESTONES: Milestone[] = [
  {
    number: 1,
    slug: '01-publish-consume',
    title: 'Publish and consume',
    goal: 'Turn order events into AMQP messages and back, and watch one travel through a real queue.',
    layer: 'codec',
    exercise: { file: 'milestones/01-publish-consume/codec.ts', exportName: 'codec' },
    reference: { file: 'solutions/layers/01-codec.ts', exportName: 'codec' },
    checks: () => load(import('./checks/01-publish-consume.ts')),
    demo: () => import('./demos/01-publish-consume.ts'),
    hints: ['Buffer.from(JSON.stringify(event)) makes the body; the properties go in the options object.', 'DomainEventSchema.safeParse tells you which field is wrong.'],
    budgetMs: 5000,
  },
  {
    number: 2,
    slug: '02-routing',
    title: 'Routing with topic and direct exchanges',
    goal: 'Declare the event bus and bind each service queue to exactly the events it needs.',
    layer: 'routing',
    exercise: { file: 'milestones/02-routing/routing.ts', exportName: 'routing' },
    reference: { file: 'solutions/layers/02-routing.ts', exportName: 'routing' },
    checks: () => load(import('./checks/02-routing.ts')),
    demo: () => import('./demos/02-routing.ts'),
    hints: ['topology.exchanges and topology.bindings hold everything to declare; filter them by type.'],
    budgetMs: 5000,
  },
  {
    number: 3,
    slug: '03-fanout',
    title: 'Fanout: notifications and audit',
    goal: 'Broadcast every order status to email and SMS, and every event to the audit log.',
    layer: 'fanout',
    exercise: { file: 'milestones/03-fanout/fanout.ts', exportName: 'fanout' },
    reference: { file: 'solutions/layers/03-fanout.ts', exportName: 'fanout' },
    checks: () => load(import('./checks/03-fanout.ts')),
    demo: () => import('./demos/03-fanout.ts'),
    hints: ['bindExchange(destination, source, pattern) copies messages from one exchange into another.'],
    budgetMs: 5000,
  },
  {
    number: 4,
    slug: '04-durability',
    title: 'Durability and publisher confirms',
    goal: 'Survive a broker restart, and only call a message sent once the broker has confirmed it.',
    layer: 'durability',
    exercise: { file: 'milestones/04-durability/durability.ts', exportName: 'durability' },
    reference: { file: 'solutions/layers/04-durability.ts', exportName: 'durability' },
    checks: () => load(import('./checks/04-durability.ts')),
    demo: () => import('./demos/04-durability.ts'),
    hints: ['A ConfirmChannel calls your publish callback with an error on nack, and with none on ack.', 'An unroutable mandatory message comes back as a "return" event before its ack.'],
    budgetMs: 20000,
  },
  {
    number: 5,
    slug: '05-acks-prefetch',
    title: 'Manual acks, prefetch and idempotency',
    goal: 'Never lose a message a consumer was working on, never hold more than you can handle, and never apply one twice.',
    layer: 'acks',
    exercise: { file: 'milestones/05-acks-prefetch/acks.ts', exportName: 'acks' },
    reference: { file: 'solutions/layers/05-acks.ts', exportName: 'acks' },
    checks: () => load(import('./checks/05-acks-prefetch.ts')),
    demo: () => import('./demos/05-acks-prefetch.ts'),
    hints: ['Ack after the handler resolves, never before.', 'channel.prefetch(n) must come before channel.consume.'],
    budgetMs: 5000,
  },
  {
    number: 6,
    slug: '06-dead-letters',
    title: 'Dead letters and retries',
    goal: 'Retry a failed message after a delay, a bounded number of times, then park it with the reason.',
    layer: 'deadLetters',
    exercise: { file: 'milestones/06-dead-letters/dead-letters.ts', exportName: 'deadLetters' },
    reference: { file: 'solutions/layers/06-dead-letters.ts', exportName: 'deadLetters' },
    checks: () => load(import('./checks/06-dead-letters.ts')),
    demo: () => import('./demos/06-dead-letters.ts'),
    hints: ['nack(message, false, false) dead-letters a message; x-death counts how often that happened.'],
    budgetMs: 5000,
  },
  {
    number: 7,
    slug: '07-rpc',
    title: 'Request and reply (RPC)',
    goal: 'Ask the payment service a question over RabbitMQ and get the right answer back, or a timeout.',
    layer: 'rpc',
    exercise: { file: 'milestones/07-rpc/rpc.ts', exportName: 'rpc' },
    reference: { file: 'solutions/layers/07-rpc.ts', exportName: 'rpc' },
    checks: () => load(import('./checks/07-rpc.ts')),
    demo: () => import('./demos/07-rpc.ts'),
    hints: ['One reply queue per client; match replies to calls by correlation id.'],
    budgetMs: 5000,
  },
  {
    number: 8,
    slug: '08-monitoring',
    title: 'Monitoring through the management API',
    goal: 'Read queue depths, unacked counts and consumers from the management HTTP API.',
    layer: 'monitoring',
    exercise: { file: 'milestones/08-monitoring/monitoring.ts', exportName: 'monitoring' },
    reference: { file: 'solutions/layers/08-monitoring.ts', exportName: 'monitoring' },
    checks: () => load(import('./checks/08-monitoring.ts')),
    demo: () => import('./demos/08-monitoring.ts'),
    hints: ['GET /api/queues/{vhost}/{name} with basic auth; encode the vhost ("/" is %2F).'],
    // The broker samples queue statistics every collect_statistics_interval (5 s by default): the
    // checks wait for those samples together rather than one after another.
    concurrentChecks: true,
    budgetMs: 8000,
  },
  {
    number: 9,
    slug: '09-scaling',
    title: 'Scaling with competing consumers',
    goal: 'Run several workers on one queue, share the load fairly, let express orders overtake, and scale down without losing anything.',
    layer: 'scaling',
    exercise: { file: 'milestones/09-scaling/scaling.ts', exportName: 'scaling' },
    reference: { file: 'solutions/layers/09-scaling.ts', exportName: 'scaling' },
    checks: () => load(import('./checks/09-scaling.ts')),
    demo: () => import('./demos/09-scaling.ts'),
    hints: ['Each worker needs its own channel: its own prefetch window, and closing it stops only that worker.'],
    budgetMs: 5000,
  },
];

export function milestone(number: number): Milestone {
  const found = MILESTONES.find((m) => m.number === number);
  if (!found) throw new Error(`there is no milestone ${number}: choose 1 to ${MILESTONES.length}`);
  return found;
}
