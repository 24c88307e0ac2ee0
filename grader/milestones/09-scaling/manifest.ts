// Milestone 9 in the grader's list of milestones (grader/manifest.ts): its title, its goal (one sentence:
// what the learner builds and why the order system needs it) and its grading time budget
// (docs/grader-performance.md). Its number, slug and layer come from LAYER_MILESTONES in shared/layers/index.ts.
export const title = 'Scaling with competing consumers';
export const goal =
  'Run several workers on one queue, each on a channel of its own, share the load fairly, let express orders overtake, and scale down without losing, repeating or leaking anything.';
export const budgetMs = 5000;
