// Milestone 10 in the grader's list of milestones (grader/manifest.ts): its title, its goal (one sentence:
// what the learner builds and why the order system needs it) and its grading time budget
// (docs/grader-performance.md). Its number, slug and layer come from LAYER_MILESTONES in shared/layers/index.ts,
// which marks it optional: "Going further", after the nine.
export const title = 'Going further: a log anyone can replay';
export const goal = 'Keep the audit log in a stream that any reader can replay from the start, from now, or from a point in time.';
export const budgetMs = 10_000;
