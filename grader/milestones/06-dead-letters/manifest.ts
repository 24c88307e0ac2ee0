// Milestone 6 in the grader's list of milestones (grader/manifest.ts): its title, its goal (one sentence:
// what the learner builds and why the order system needs it) and its grading time budget
// (docs/grader-performance.md). Its number, slug and layer come from LAYER_MILESTONES in shared/layers/index.ts.
export const title = 'Dead letters and retries';
export const goal = 'Retry a failed message after a delay, a bounded number of times, then park it with the reason.';
export const budgetMs = 5000;
