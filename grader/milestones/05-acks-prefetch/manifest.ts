// Milestone 5 in the grader's list of milestones (grader/manifest.ts): its title, its goal (one sentence:
// what the learner builds and why the order system needs it) and its grading time budget
// (docs/grader-performance.md). Its number, slug and layer come from LAYER_MILESTONES in shared/layers/index.ts.
export const title = 'Manual acks, prefetch and idempotency';
export const goal = 'Never lose a message a consumer was working on, never hold more than you can handle, and never apply one twice.';
export const budgetMs = 5000;
