// Milestone 2 in the grader's list of milestones (grader/manifest.ts): its title, its goal (one sentence:
// what the learner builds and why the order system needs it) and its grading time budget
// (docs/grader-performance.md). Its number, slug and layer come from LAYER_MILESTONES in shared/layers/index.ts.
export const title = 'Routing with topic, direct and headers exchanges';
export const goal = 'Declare the event bus and bind each service queue to exactly the events it needs.';
export const budgetMs = 5000;
/** Its checks start services of the reference system: a grading child loads the system ahead (grader/manifest.ts). */
export const startsTheSystem = true;
