// Milestone 3 in the grader's list of milestones (grader/manifest.ts): its title, its goal (one sentence:
// what the learner builds and why the order system needs it) and its grading time budget
// (docs/grader-performance.md). Its number, slug and layer come from LAYER_MILESTONES in shared/layers/index.ts.
export const title = 'Fanout: notifications and audit';
export const goal = 'Broadcast every order status to email and SMS, and every event to the audit log.';
export const budgetMs = 5000;
/** Its checks start services of the reference system: a grading child loads the system ahead (grader/manifest.ts). */
export const startsTheSystem = true;
